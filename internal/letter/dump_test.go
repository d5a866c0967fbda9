package letter_test

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDump(t *testing.T) {
	dir := os.Getenv("LETTER_DUMP")
	if dir == "" {
		t.Skip()
	}
	for k := range customers {
		l, _ := render(t, k)
		pdf, _ := write(t, l)
		os.WriteFile(filepath.Join(dir, k+".pdf"), pdf, 0o644)
	}
}
