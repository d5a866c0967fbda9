package phone

import (
	"encoding/binary"
	"regexp"
	"regexp/syntax"
	"slices"
	"sync"
)

// digitDFA is an anchored pattern of the metadata compiled into a deterministic automaton over
// the ten digits: a match is one table lookup per digit. Go's regexp ran the same patterns with
// its backtracker or one-pass matcher, at about 0.2 µs a pattern; with two or three patterns a
// number, that was a tenth of the importer's CPU time. The automaton is built by the subset
// construction from the program regexp/syntax compiles, so it accepts exactly the strings of
// digits the regexp accepts; numberPattern falls back to the regexp for any other input.
type digitDFA struct {
	next   [][10]int32 // next state on each digit; -1 when no match is possible any more
	accept []bool      // the input may end in this state
	// prefix makes match true as soon as a prefix of the input matches ("^(?:…)" without a
	// final "$", as MatchString reads it).
	prefix bool
}

// digitPattern is a pattern of the metadata, compiled on first use (a list uses the patterns of
// a few regions; compiling the 3,000 of them all took a fifth of a second at every import) into
// a digitDFA and, for the inputs that are not all digits, a regexp.
type digitPattern struct {
	expr   string
	prefix bool
	once   sync.Once
	re     *regexp.Regexp // nil if expr does not compile: it then matches nothing
	dfa    *digitDFA
}

// newDigitPattern returns the pattern expr; prefix says that it has no end anchor.
func newDigitPattern(expr string, prefix bool) *digitPattern {
	return &digitPattern{expr: expr, prefix: prefix}
}

func (p *digitPattern) compile() {
	if re, err := regexp.Compile(p.expr); err == nil {
		p.re = re
		p.dfa, _ = compileDigitDFA(p.expr, p.prefix)
	}
}

// MatchString is regexp.MatchString.
func (p *digitPattern) MatchString(s string) bool {
	p.once.Do(p.compile)
	if p.dfa != nil {
		if m, ok := p.dfa.match(s); ok {
			return m
		}
	}
	return p.re != nil && p.re.MatchString(s)
}

// maxDFAStates bounds an automaton; a pattern that needs more keeps its regexp.
const maxDFAStates = 4096

// compileDigitDFA compiles expr (a complete regexp, with its anchors) for inputs made of
// digits only; prefix says that expr has no end anchor, so that a match of a prefix of the
// input is a match. ok is false when the pattern uses something the construction does not
// handle (word boundaries) or needs too many states.
func compileDigitDFA(expr string, prefix bool) (*digitDFA, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, false
	}
	b := dfaBuilder{prog: prog, ids: map[string]int32{}}
	start, ok := b.closure([]uint32{uint32(prog.Start)}, syntax.EmptyBeginText|syntax.EmptyBeginLine)
	if !ok {
		return nil, false
	}
	b.d.prefix = prefix
	if _, ok := b.state(start, true); !ok {
		return nil, false
	}
	for i := 0; i < len(b.sets); i++ {
		for d := range 10 {
			var targets []uint32
			for _, pc := range b.sets[i] {
				inst := &prog.Inst[pc]
				if matchesDigit(inst, rune('0'+d)) {
					targets = append(targets, inst.Out)
				}
			}
			set, ok := b.closure(targets, 0)
			if !ok {
				return nil, false
			}
			id := int32(-1)
			if len(set) > 0 {
				if id, ok = b.state(set, false); !ok {
					return nil, false
				}
			}
			b.d.next[i][d] = id
		}
	}
	return &b.d, true
}

// match reports whether s matches; ok is false when s holds something other than digits.
func (d *digitDFA) match(s string) (matched, ok bool) {
	st := int32(0)
	if d.prefix && d.accept[0] {
		return true, true
	}
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return false, false
		}
		if st = d.next[st][c]; st < 0 {
			// No continuation of what was read can match, whatever follows.
			return false, true
		}
		if d.prefix && d.accept[st] {
			// The regexp also matches this prefix; the rest need not be digits.
			return true, true
		}
	}
	return d.accept[st], true
}

type dfaBuilder struct {
	prog *syntax.Prog
	d    digitDFA
	sets [][]uint32
	ids  map[string]int32
}

// state returns the number of the state for set (sorted pcs), adding it if new.
func (b *dfaBuilder) state(set []uint32, first bool) (int32, bool) {
	key := make([]byte, 0, 4*len(set))
	for _, pc := range set {
		key = binary.LittleEndian.AppendUint32(key, pc)
	}
	if id, ok := b.ids[string(key)]; ok {
		return id, true
	}
	if len(b.sets) == maxDFAStates {
		return 0, false
	}
	flags := syntax.EmptyEndText | syntax.EmptyEndLine
	if first {
		flags |= syntax.EmptyBeginText | syntax.EmptyBeginLine
	}
	end, ok := b.closure(set, flags)
	if !ok {
		return 0, false
	}
	id := int32(len(b.sets))
	b.ids[string(key)] = id
	b.sets = append(b.sets, set)
	b.d.next = append(b.d.next, [10]int32{})
	b.d.accept = append(b.d.accept, slices.ContainsFunc(end, func(pc uint32) bool { return b.prog.Inst[pc].Op == syntax.InstMatch }))
	return id, true
}

// closure follows from the pcs the instructions that consume no input, under the empty-width
// conditions in flags, and returns the sorted set of the instructions reached that consume a
// digit, match, or wait for an end anchor (kept when flags do not say the input ends here).
func (b *dfaBuilder) closure(pcs []uint32, flags syntax.EmptyOp) ([]uint32, bool) {
	var out []uint32
	seen := map[uint32]bool{}
	stack := slices.Clone(pcs)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		inst := &b.prog.Inst[pc]
		switch inst.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, inst.Arg, inst.Out)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, inst.Out)
		case syntax.InstEmptyWidth:
			op := syntax.EmptyOp(inst.Arg)
			switch {
			case op&^(syntax.EmptyBeginText|syntax.EmptyBeginLine|syntax.EmptyEndText|syntax.EmptyEndLine) != 0:
				return nil, false // word boundaries: not for digits-only patterns
			case op&^flags == 0:
				stack = append(stack, inst.Out)
			case op&(syntax.EmptyBeginText|syntax.EmptyBeginLine)&^flags != 0:
				// needs the start of the input, which is behind us: a dead end
			default:
				out = append(out, pc) // needs the end of the input: decided by accept
			}
		case syntax.InstMatch, syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			out = append(out, pc)
		case syntax.InstFail:
		default:
			return nil, false
		}
	}
	slices.Sort(out)
	return out, true
}

func matchesDigit(inst *syntax.Inst, r rune) bool {
	switch inst.Op {
	case syntax.InstRune, syntax.InstRune1:
		return inst.MatchRune(r)
	case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
		return true
	}
	return false
}
