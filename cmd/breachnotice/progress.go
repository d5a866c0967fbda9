package main

import (
	"fmt"
	"io"
	"time"

	"github.com/breachnotice/breachnotice/internal/importer"
)

// progressBar draws an import's progress on one terminal line: the share of the file read
// (when its size is known), rows, rate and time left.
type progressBar struct {
	w     io.Writer
	total int64
	start time.Time
	drawn bool
}

func newProgressBar(w io.Writer, total int64) *progressBar {
	return &progressBar{w: w, total: total, start: time.Now()}
}

func (p *progressBar) update(pr importer.Progress) {
	elapsed := time.Since(p.start).Seconds()
	rate := float64(pr.Rows) / max(elapsed, 1e-3)
	line := fmt.Sprintf("%s rows  %s rows/s", groupDigits(pr.Rows), groupDigits(int64(rate)))
	if p.total > 0 {
		frac := min(float64(pr.Bytes)/float64(p.total), 1)
		const width = 30
		filled := int(frac * width)
		bar := make([]rune, width)
		for i := range bar {
			bar[i] = '░'
			if i < filled {
				bar[i] = '█'
			}
		}
		eta := "–"
		if frac > 0.01 {
			eta = (time.Duration(elapsed*(1-frac)/frac) * time.Second).Round(time.Second).String()
		}
		line = fmt.Sprintf("%s %3.0f%%  %.1f/%.1f MB  %s  ETA %s", string(bar), frac*100,
			float64(pr.Bytes)/1e6, float64(p.total)/1e6, line, eta)
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	p.drawn = true
}

// finish ends the progress line so that what follows starts on a line of its own.
func (p *progressBar) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// groupDigits writes n with thousands separators: 1,234,567.
func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
