package importer

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// pipeline reads records, validates them on several goroutines, and hands the batches to a
// writer in line order: a customer's later row must reach the store after their earlier one,
// which is how the later one wins.
//
//	reader ──chunks──▶ workers (validate) ──batches──▶ reorder ──▶ write
//
// Memory is bounded in chunks and in bytes: the reader takes a token for each chunk it reads,
// and one per costUnit of the chunk's records (recordCost), and the writer gives them back once
// the chunk's batch is written. So no more than 12 chunks per worker, and no more than
// inFlightCost of records, exist at once, however slow one worker is and whatever the rows'
// shape: a chunk is cut at batchRows records or at chunkCost, so a thousand rows of a megabyte
// travel two to a chunk and a few chunks at a time, not as one chunk of a gigabyte.
type pipeline struct {
	validate  func(record, *parseCache, *breach.ImportRow) (*breach.Reject, []breach.Warning)
	workers   int
	batchRows int
	// header is the list's header row as read, and its cells: a later row of its cells in
	// another order is a second export joined to the first (reorderedHeader).
	header     []string
	headerCell map[string]bool
}

// reorderedHeader reports whether rec is the header row again with its columns in another
// order: two exports joined, the rows after it would be read by the first header's columns —
// last names as first names, one phone column as the other (a review). Only a row whose first
// cell is one of the header's cells is compared (one lookup a row), cell by cell as written.
func (p *pipeline) reorderedHeader(rec *record) bool {
	if len(p.header) == 0 || len(rec.fields) != len(p.header) || !p.headerCell[rec.fields[0]] {
		return false
	}
	same := true
	for i, f := range rec.fields {
		if !p.headerCell[f] {
			return false
		}
		same = same && f == p.header[i]
	}
	return !same // the header repeated as it was is a row rejected as such
}

// Byte bounds of the pipeline (see recordCost).
const (
	// chunkCost is the cost at which a chunk is cut before batchRows: ordinary rows (a few
	// hundred bytes) never reach it, a chunk of wide rows then holds fewer of them.
	chunkCost = 1 << 20
	// inFlightCost bounds the cost of the records of all chunks in flight, whatever the number
	// of workers: 16 rows of a megabyte at most, or about 20 chunks of ordinary rows (a little
	// under the 24 chunk tokens of two workers), which keeps every worker busy. With the GC's
	// headroom, that is a heap of well under 64 MB for any list.
	inFlightCost = 16 << 20
	// costUnit is the weight of one byte token.
	costUnit = 64 << 10
	// maxLeadingOversized is how many rows over MaxRowBytes or MaxRowFields may start a list
	// before it is refused: a file that begins with a hundred such rows and not one customer
	// is not a customer list but, most likely, a decompression bomb, whose reading would only
	// burn a CPU for minutes.
	maxLeadingOversized = 100
)

// errLeadingOversized is the cause of the refusal of a list whose first maxLeadingOversized
// rows are all over a row limit.
var errLeadingOversized = errors.New("the list starts with too many rows over the row limits")

// recordCost estimates the memory a record takes in flight, as a record and then as the
// validated row or reject of its batch: its bytes, plus for each field its string header and
// the attribute it may become.
func recordCost(rec *record) int {
	n := 64
	for _, f := range rec.fields {
		n += 64 + len(f)
	}
	return n
}

type chunk struct {
	seq     int
	records []record
	units   int // byte tokens taken for it
}

type batch struct {
	seq   int
	units int
	*breach.ImportBatch
}

// run passes every record of rr through the pipeline to write. Errors reading rr come back as
// *readError. It returns only once every goroutine it started has stopped.
func (p *pipeline) run(ctx context.Context, rr recordSource, write func(*breach.ImportBatch) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	inFlight := make(chan struct{}, 12*p.workers)
	budget := make(chan struct{}, inFlightCost/costUnit)
	chunks := make(chan chunk, 4*p.workers)
	batches := make(chan batch, 4*p.workers)

	var readErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(chunks)
		readErr = p.read(ctx, rr, inFlight, budget, chunks)
	})
	var workers sync.WaitGroup
	for range p.workers {
		workers.Go(func() {
			cache := newParseCache()
			for c := range chunks {
				b := batch{seq: c.seq, units: c.units, ImportBatch: &breach.ImportBatch{Rows: make([]breach.ImportRow, len(c.records))}}
				valid := 0
				for _, rec := range c.records {
					rej, warns := p.validate(rec, cache, &b.Rows[valid])
					if rej != nil {
						b.Rejects = append(b.Rejects, *rej)
						continue
					}
					if len(warns) > 0 {
						b.Warnings = append(b.Warnings, warns...)
						b.WarnedRows++
					}
					valid++
				}
				b.Rows = b.Rows[:valid]
				// The attributes' chunk goes with the batch: a worker waiting for the next
				// chunk of the list must not keep this batch's rows alive through it.
				cache.attrs.reset()
				select {
				case batches <- b:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Go(func() { workers.Wait(); close(batches) })

	err := p.writeInOrder(batches, inFlight, budget, write)
	if err != nil {
		cancel(err)
		for range batches { // let the workers see the cancellation and stop
		}
	}
	wg.Wait()
	if err != nil {
		return err
	}
	if readErr != nil {
		return readErr
	}
	return context.Cause(ctx)
}

// read cuts the records into numbered chunks, at batchRows records or chunkCost, and takes
// their tokens. It refuses the list (an EINVALID error) when its first maxLeadingOversized rows
// are all over a row limit.
func (p *pipeline) read(ctx context.Context, rr recordSource, inFlight, budget chan struct{}, out chan<- chunk) error {
	seq, cost := 0, 0
	records := make([]record, 0, p.batchRows)
	send := func() error {
		units := min(cap(budget), max(1, (cost+costUnit-1)/costUnit))
		select {
		case inFlight <- struct{}{}:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		for range units {
			select {
			case budget <- struct{}{}:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		select {
		case out <- chunk{seq, records, units}:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		seq, cost = seq+1, 0
		records = make([]record, 0, p.batchRows)
		return nil
	}
	var oversized int
	var firstOversized int64
	fits := false
	for {
		rec, err := rr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return &readError{err}
		}
		if p.reorderedHeader(&rec) {
			return &listError{app: breach.Errorf(breach.EINVALID,
				"line %d repeats the header row with its columns in another order: the file joins two exports, and the rows after it would be read by line 1's columns; import each part on its own", rec.line)}
		}
		if !fits {
			if !rec.oversize {
				fits = true
			} else if oversized++; oversized == 1 {
				firstOversized = rec.line
			} else if oversized == maxLeadingOversized {
				return &listError{
					app: breach.Errorf(breach.EINVALID,
						"lines %d to %d, the first %d rows of the file, are each longer than %d MiB or have more than %s fields: this is not a customer list",
						firstOversized, rec.line, maxLeadingOversized, MaxRowBytes>>20, thousands(MaxRowFields)),
					cause: errLeadingOversized,
				}
			}
		}
		records = append(records, rec)
		cost += recordCost(&rec)
		if len(records) == p.batchRows || cost >= chunkCost {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if len(records) > 0 {
		return send()
	}
	return nil
}

// writeInOrder writes the batches in chunk order, holding back those that arrive early.
func (p *pipeline) writeInOrder(batches <-chan batch, inFlight, budget <-chan struct{}, write func(*breach.ImportBatch) error) error {
	early := map[int]batch{}
	next := 0
	for b := range batches {
		early[b.seq] = b
		for {
			ready, ok := early[next]
			if !ok {
				break
			}
			delete(early, next)
			next++
			if err := write(ready.ImportBatch); err != nil {
				return err
			}
			<-inFlight
			for range ready.units {
				<-budget
			}
		}
	}
	return nil
}
