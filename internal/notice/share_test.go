package notice

import (
	"strings"
	"testing"
	"unsafe"
)

func TestCorpusShare_PartsMakeTheTextAndReferToEarlierTexts(t *testing.T) {
	para := func(s string) string { return strings.Repeat(s, 60) + "\n" }
	var c corpus
	first := para("a") + para("b") + "</p>\n" + para("c") + para("d")
	parts := c.share(first)
	if strings.Join(parts, "") != first {
		t.Fatalf("the first text's parts make %q", strings.Join(parts, ""))
	}
	held := parts[0] // the copy the corpus now holds
	inCorpus := func(p string) bool {
		start := uintptr(unsafe.Pointer(unsafe.StringData(held)))
		at := uintptr(unsafe.Pointer(unsafe.StringData(p)))
		return at >= start && at < start+uintptr(len(held))
	}
	for _, tt := range []struct {
		name   string
		text   string
		shared int // bytes of the text that must be runs of the first text
	}{
		{"the same text", first, len(first)},
		{"a paragraph changed", para("a") + para("X") + "</p>\n" + para("c") + para("d"), 3*61 + 5},
		{"a paragraph left out", para("a") + para("c") + para("d"), 3 * 61},
		{"reordered", para("d") + para("a"), 2 * 61},
		{"ending without a line break", para("a") + strings.Repeat("b", 60), 61},
		{"nothing in common", para("x") + "short\n", 0},
		{"short lines are copied", "</p>\n</p>\n", 0},
		{"empty", "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parts := c.share(tt.text)
			if got := strings.Join(parts, ""); got != tt.text {
				t.Fatalf("the parts make %q, want %q", got, tt.text)
			}
			shared := 0
			for _, p := range parts {
				if p == "" {
					t.Error("an empty part")
				}
				if inCorpus(p) {
					shared += len(p)
				}
			}
			if shared < tt.shared {
				t.Errorf("%d bytes are runs of the first text, want ≥ %d (parts %q)", shared, tt.shared, parts)
			}
		})
	}
	// What a text copied, the texts after it share.
	x := para("p") + para("q")
	c.share(x)
	if parts := c.share(x); len(parts) != 1 || unsafe.StringData(parts[0]) == unsafe.StringData(x) {
		t.Errorf("a text seen before is %d parts, or its own bytes", len(parts))
	}
	if got := (*corpus)(nil).share("abc"); len(got) != 1 || got[0] != "abc" {
		t.Errorf("a nil corpus shares %q", got)
	}
}
