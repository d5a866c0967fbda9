package operation

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// LetterSink receives the files of a letters run, one at a time: each letter's PDF, then
// manifest.csv. Create's writer is written in full before the next Create or Close; nothing
// is held back, so a run's memory does not grow with its letters.
type LetterSink interface {
	Create(name string) (io.Writer, error)
	// Close finishes the output (the zip's directory, the last file).
	Close() error
}

// DirSink writes a letters run into a directory (the command line's --out), creating it if
// need be. Files are created new: a run never overwrites a file it did not write, so two runs
// into the same directory fail rather than mix their letters.
type DirSink struct {
	Dir  string
	cur  *os.File
	made bool
}

// Create creates the file name in the directory.
func (d *DirSink) Create(name string) (io.Writer, error) {
	if err := d.closeCurrent(); err != nil {
		return nil, err
	}
	if !d.made {
		// A directory with anything in it is refused before the first letter: checked file by
		// file, a run into one holding a manifest.csv wrote and recorded every letter printed,
		// then failed with no manifest for the print vendor (a review).
		if entries, err := os.ReadDir(d.Dir); err == nil && len(entries) > 0 {
			return nil, fmt.Errorf("letters: %s is not empty (%d files or directories): write each run into a new (or empty) directory", d.Dir, len(entries))
		}
		if err := os.MkdirAll(d.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("letters: %w", err)
		}
		d.made = true
	}
	f, err := os.OpenFile(filepath.Join(d.Dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("letters: %s exists already in %s: write each run into a new (or empty) directory", name, d.Dir)
		}
		return nil, fmt.Errorf("letters: %w", err)
	}
	d.cur = f
	return f, nil
}

func (d *DirSink) closeCurrent() error {
	if d.cur == nil {
		return nil
	}
	err := d.cur.Close()
	d.cur = nil
	if err != nil {
		return fmt.Errorf("letters: %w", err)
	}
	return nil
}

// Close closes the last file.
func (d *DirSink) Close() error { return d.closeCurrent() }

// ZipSink streams a letters run as a zip archive to W (the API's and the console's download):
// each file is compressed as it is written and leaves at once.
type ZipSink struct {
	zw *zip.Writer
	// Modified is the files' time in the archive (the run's).
	Modified time.Time
}

// NewZipSink returns a sink writing a zip archive to w.
func NewZipSink(w io.Writer, modified time.Time) *ZipSink {
	return &ZipSink{zw: zip.NewWriter(w), Modified: modified}
}

// Create starts the file name in the archive.
func (z *ZipSink) Create(name string) (io.Writer, error) {
	return z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: z.Modified})
}

// Close writes the archive's directory.
func (z *ZipSink) Close() error { return z.zw.Close() }
