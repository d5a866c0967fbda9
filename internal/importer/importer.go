// Package importer reads the list of a breach's affected customers — CSV as Excel and CRMs
// write it: UTF-8 with or without BOM, UTF-16, Windows-1252; comma, semicolon or tab; quoted
// fields with newlines; gzip — validates and normalizes every row, and streams the result to
// a Store in batches, in bounded memory whatever the file's size.
//
// Every row read ends up accepted, merged into an earlier row of the same customer, or
// rejected with its line and reason; the Store's merge decides the first two, the importer
// the third.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/csvsafe"
	"github.com/breachnotice/breachnotice/internal/phone"
)

// Store keeps imports. Implemented by package postgres.
type Store interface {
	// BeginImport records imp (ID, CampaignID, Filename and CreatedBy set) as running and
	// returns the session its rows go to. It fails with ENOTFOUND for an unknown campaign and
	// ECONFLICT for a campaign that no longer takes imports.
	BeginImport(ctx context.Context, imp *breach.Import) (Session, error)
}

// Session receives one import's batches and then merges them into the campaign's recipients in
// one step, or nothing of them.
type Session interface {
	Write(ctx context.Context, b *breach.ImportBatch) error
	// Progress records how far the import has read, for those watching it.
	Progress(ctx context.Context, read int64) error
	// Commit merges the rows into the campaign's recipients (a customer already present is
	// updated: non-empty fields win, categories are united), stores the rejects, and fills in
	// imp's Accepted, Merged and Updated counts and final state.
	Commit(ctx context.Context, imp *breach.Import) error
	// Abort discards the rows and records the import as failed with cause.
	Abort(ctx context.Context, imp *breach.Import, cause error)
}

// Options tune an import.
type Options struct {
	// Map names the field of columns whose header is not a known name or alias
	// (column header → field, "-" to drop the column).
	Map map[string]string
	// Encoding forces the input's character encoding instead of detecting it.
	Encoding string
	// Workers is how many goroutines validate rows (default: the number of CPUs).
	Workers int
	// BatchRows is how many rows travel together (default 1024).
	BatchRows int
	// OnProgress, if set, is called about every ProgressEvery with the rows read so far and
	// how many bytes of the (possibly compressed) input were consumed.
	OnProgress    func(p Progress)
	ProgressEvery time.Duration
}

// Progress is how far an import has come.
type Progress struct {
	Rows  int64
	Bytes int64
}

// Importer imports customer lists. Build one with New and share it.
type Importer struct {
	store  Store
	phones *phone.Parser
}

// New returns an Importer that stores into store.
func New(store Store) (*Importer, error) {
	phones, err := phone.NewParser()
	if err != nil {
		return nil, err
	}
	return &Importer{store: store, phones: phones}, nil
}

// Run imports the list read from src into campaign c, under imp's ID and file name. It returns
// the finished import. An error that is the list's fault (empty file, bad header) is an
// EINVALID *breach.Error naming the problem; nothing is stored then, but the failed import is
// recorded.
func (im *Importer) Run(ctx context.Context, c *breach.Campaign, imp *breach.Import, src io.Reader, opts Options) (*breach.Import, error) {
	imp.CampaignID = c.ID
	sess, err := im.store.BeginImport(ctx, imp)
	if err != nil {
		return nil, err
	}
	if err := im.parse(ctx, c, imp, src, opts, sess.Write, sess.Progress); err != nil {
		sess.Abort(context.WithoutCancel(ctx), imp, err)
		return imp, err
	}
	if err := sess.Commit(ctx, imp); err != nil {
		sess.Abort(context.WithoutCancel(ctx), imp, err)
		return imp, err
	}
	return imp, nil
}

// parse reads and validates every row and passes them to write in batches; imp.Read,
// imp.Rejected, imp.Encoding and imp.Delimiter are set here. progress is called about every
// opts.ProgressEvery with the rows read so far.
func (im *Importer) parse(ctx context.Context, c *breach.Campaign, imp *breach.Import, src io.Reader, opts Options,
	write func(context.Context, *breach.ImportBatch) error, progress func(context.Context, int64) error) error {
	counted := &countingReader{r: src}
	in, format, err := openInput(counted, opts.Encoding)
	if err != nil {
		return breach.Errorf(breach.EINVALID, "%v", err)
	}
	comma := detectDelimiter(in)
	format.Delimiter = string(comma)
	imp.Encoding, imp.Delimiter = format.Encoding, format.Delimiter

	rr := newRecordReader(in, comma)
	header, err := rr.Read()
	if errors.Is(err, io.EOF) {
		return breach.Errorf(breach.EINVALID, "the file has no header row (it is empty)")
	}
	if err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	if header.problem != "" {
		return breach.Errorf(breach.EINVALID, "line %d (header): %s", header.line, header.problem)
	}
	cols, err := mapHeader(header.fields, opts.Map)
	if err != nil {
		return breach.Errorf(breach.EINVALID, "line %d: %v", header.line, err)
	}
	rr.width = len(header.fields)
	v := &validator{cols: cols, phones: im.phones, defaultCountry: c.DefaultCountry}
	for _, f := range cols.kind {
		if f == fieldAttribute {
			v.attributeCols++
		}
	}

	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	batchRows := opts.BatchRows
	if batchRows <= 0 {
		batchRows = 1024
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// reader → chunks of records → workers → batches → this goroutine → the store.
	chunks := make(chan []record, workers*2)
	batches := make(chan *breach.ImportBatch, workers*2)
	var readErr error
	go func() {
		defer close(chunks)
		readErr = readChunks(ctx, rr, batchRows, chunks)
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			cache := newParseCache()
			for chunk := range chunks {
				b := &breach.ImportBatch{Rows: make([]breach.ImportRow, 0, len(chunk))}
				for _, rec := range chunk {
					if row, rej := v.row(rec, cache); rej != nil {
						b.Rejects = append(b.Rejects, *rej)
					} else {
						b.Rows = append(b.Rows, *row)
					}
				}
				select {
				case batches <- b:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(batches) }()

	every := opts.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	last := time.Now()
	for b := range batches {
		imp.Read += int64(len(b.Rows) + len(b.Rejects))
		imp.Rejected += int64(len(b.Rejects))
		if err := write(ctx, b); err != nil {
			cancel(err)
			for range batches { // let the workers finish
			}
			return fmt.Errorf("store rows: %w", err)
		}
		if time.Since(last) >= every {
			last = time.Now()
			if opts.OnProgress != nil {
				opts.OnProgress(Progress{Rows: imp.Read, Bytes: counted.n.Load()})
			}
			if err := progress(ctx, imp.Read); err != nil {
				return fmt.Errorf("record progress: %w", err)
			}
		}
	}
	if readErr != nil {
		return fmt.Errorf("read %s input: %w", format.Encoding, readErr)
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if opts.OnProgress != nil {
		opts.OnProgress(Progress{Rows: imp.Read, Bytes: counted.n.Load()})
	}
	return nil
}

// readChunks reads records into chunks of n until the end of the input.
func readChunks(ctx context.Context, rr *recordReader, n int, out chan<- []record) error {
	chunk := make([]record, 0, n)
	for {
		rec, err := rr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		chunk = append(chunk, rec)
		if len(chunk) == n {
			select {
			case out <- chunk:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			chunk = make([]record, 0, n)
		}
	}
	if len(chunk) > 0 {
		select {
		case out <- chunk:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return nil
}

// WriteRejectsCSV writes an import's rejects as CSV (line, customer_id, field, reason), the
// report an operator downloads to fix their list. each is called with the function to call for
// every reject, in line order.
func WriteRejectsCSV(w io.Writer, each func(fn func(breach.Reject) error) error) error {
	cw := csvsafe.NewWriter(w)
	if err := cw.Write("line", "customer_id", "field", "reason"); err != nil {
		return err
	}
	err := each(func(r breach.Reject) error {
		return cw.Write(strconv.FormatInt(r.Line, 10), r.CustomerID, r.Field, r.Reason)
	})
	if err != nil {
		return err
	}
	return cw.Flush()
}
