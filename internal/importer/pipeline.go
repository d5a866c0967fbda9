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
// Memory is bounded by inFlight: the reader takes a token for each chunk it reads and the
// writer gives it back once the chunk's batch is written, so no more than inFlight chunks exist
// at once, however slow one worker is.
type pipeline struct {
	validate  func(record, *parseCache, *breach.ImportRow) *breach.Reject
	workers   int
	batchRows int
}

type chunk struct {
	seq     int
	records []record
}

type batch struct {
	seq int
	*breach.ImportBatch
}

// run passes every record of rr through the pipeline to write. Errors reading rr come back as
// *readError. It returns only once every goroutine it started has stopped.
func (p *pipeline) run(ctx context.Context, rr *recordReader, write func(*breach.ImportBatch) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	inFlight := make(chan struct{}, 12*p.workers)
	chunks := make(chan chunk, 4*p.workers)
	batches := make(chan batch, 4*p.workers)

	var readErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(chunks)
		readErr = p.read(ctx, rr, inFlight, chunks)
	})
	var workers sync.WaitGroup
	for range p.workers {
		workers.Go(func() {
			cache := newParseCache()
			for c := range chunks {
				b := batch{seq: c.seq, ImportBatch: &breach.ImportBatch{Rows: make([]breach.ImportRow, len(c.records))}}
				valid := 0
				for _, rec := range c.records {
					if rej := p.validate(rec, cache, &b.Rows[valid]); rej != nil {
						b.Rejects = append(b.Rejects, *rej)
					} else {
						valid++
					}
				}
				b.Rows = b.Rows[:valid]
				select {
				case batches <- b:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Go(func() { workers.Wait(); close(batches) })

	err := p.writeInOrder(batches, inFlight, write)
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

// read cuts the records into numbered chunks.
func (p *pipeline) read(ctx context.Context, rr *recordReader, inFlight chan struct{}, out chan<- chunk) error {
	seq := 0
	records := make([]record, 0, p.batchRows)
	send := func() error {
		select {
		case inFlight <- struct{}{}:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		select {
		case out <- chunk{seq, records}:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		seq++
		records = make([]record, 0, p.batchRows)
		return nil
	}
	for {
		rec, err := rr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return &readError{err}
		}
		records = append(records, rec)
		if len(records) == p.batchRows {
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
func (p *pipeline) writeInOrder(batches <-chan batch, inFlight <-chan struct{}, write func(*breach.ImportBatch) error) error {
	early := map[int]*breach.ImportBatch{}
	next := 0
	for b := range batches {
		early[b.seq] = b.ImportBatch
		for {
			ready, ok := early[next]
			if !ok {
				break
			}
			delete(early, next)
			next++
			if err := write(ready); err != nil {
				return err
			}
			<-inFlight
		}
	}
	return nil
}
