package notice

import (
	"strings"
	"sync"
)

// A campaign's variants differ in a few paragraphs: the categories exposed, a country's or a
// jurisdiction's guidance, a greeting by name. Kept whole, a thousand variants of a 25 KB
// notice held 24 MB of a worker's heap, the better part of its memory while sending. So each
// variant's texts are kept as runs of what earlier variants of its locale already hold (a
// corpus) wherever they are the same, and of one string of its own for the rest: Go substrings
// share their string's bytes, so a run costs its 16-byte header, not its length.

// minSharedRun is the shortest run of the corpus a text refers to rather than copies: a shorter
// one saves fewer bytes than the part's header and the lookup cost.
const minSharedRun = 48

// maxCandidates bounds the places of the corpus tried for each line of a text: a line as common
// as "</p>" occurs in every variant, and the longest run is almost always among the first few.
const maxCandidates = 8

// corpus is the text that texts of one kind (a locale's HTML, say) hold, indexed by line. It is
// safe for concurrent use.
type corpus struct {
	mu    sync.Mutex
	lines map[string][]textAt // a line, its end included, to where it starts (maxCandidates at most)
}

// textAt is an offset in a string.
type textAt struct {
	s   string
	off int
}

// lineEnds end a line, for the corpus: a line break, and the end of an HTML tag, so that a
// template written on one line (minified HTML) is shared tag by tag rather than not at all.
const lineEnds = "\n>"

// lineAt is the line of s that starts at i, its end included.
func lineAt(s string, i int) string {
	if j := strings.IndexAny(s[i:], lineEnds); j >= 0 {
		return s[i : i+j+1]
	}
	return s[i:]
}

// share returns parts whose concatenation is text: runs of the corpus wherever text holds one
// (from a line's start, of minSharedRun bytes at least), and substrings of one copy of the
// rest — which the corpus then holds, for the texts after this one. A nil corpus shares
// nothing.
func (c *corpus) share(text string) []string {
	if text == "" {
		return nil
	}
	if c == nil {
		return []string{text}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lines == nil {
		c.lines = map[string][]textAt{}
	}
	// A part is a run of the corpus (run.s set), or own[off : off+n].
	type part struct {
		run textAt
		n   int
	}
	var (
		parts    []part
		own      strings.Builder
		ownLines []textAt // each line copied, and where in own: indexed once own is a string
	)
	for i := 0; i < len(text); {
		line := lineAt(text, i)
		var best textAt
		n := 0
		refs := c.lines[line]
		for _, at := range refs[:min(len(refs), maxCandidates)] {
			if m := commonPrefix(text[i:], at.s[at.off:]); m > n {
				best, n = at, m
			}
		}
		if n > len(line) && i+n < len(text) {
			// End the run at a line's end, so that the next lookup starts at a line.
			n = strings.LastIndexAny(text[i:i+n], lineEnds) + 1
		}
		if n >= minSharedRun {
			parts = append(parts, part{run: best, n: n})
			i += n
			continue
		}
		if k := len(parts) - 1; k >= 0 && parts[k].run.s == "" {
			parts[k].n += len(line)
		} else {
			parts = append(parts, part{run: textAt{off: own.Len()}, n: len(line)})
		}
		ownLines = append(ownLines, textAt{s: line, off: own.Len()})
		own.WriteString(line)
		i += len(line)
	}
	ownText := own.String()
	for _, l := range ownLines {
		// Keyed by the corpus's own copy: a key sliced from text would keep the caller's whole
		// rendered text alive. And no more places than share ever tries.
		k := ownText[l.off : l.off+len(l.s)]
		if refs := c.lines[k]; len(refs) < maxCandidates {
			c.lines[k] = append(refs, textAt{s: ownText, off: l.off})
		}
	}
	out := make([]string, len(parts))
	for k, p := range parts {
		if p.run.s != "" {
			out[k] = p.run.s[p.run.off : p.run.off+p.n]
		} else {
			out[k] = ownText[p.run.off : p.run.off+p.n]
		}
	}
	return out
}

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
