// Package importer reads the list of a breach's affected customers — CSV as Excel and CRMs
// write it: UTF-8 with or without BOM, UTF-16, Windows-1252; comma, semicolon or tab; quoted
// fields with newlines; gzip — validates and normalizes every row, and streams the result to
// a Store in batches, in bounded memory whatever the file's size or shape: a row longer than
// MaxRowBytes or wider than MaxRowFields is rejected without being held whole, and the rows
// in flight are bounded in bytes as well as in number.
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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/csvsafe"
	"github.com/breachnotice/breachnotice/internal/metrics"
	"github.com/breachnotice/breachnotice/internal/phone"
)

// Options tune an import.
type Options struct {
	// Map names the field of columns whose header is not a known name or alias
	// (column header → field, "-" to drop the column).
	Map map[string]string
	// Encoding forces the input's character encoding instead of detecting it (CSV only).
	Encoding string
	// Sheet names the sheet of a spreadsheet list to read (default: the first visible one).
	// A CSV list has none, and is refused with one.
	Sheet string
	// Workers is how many goroutines validate rows (default: the number of CPUs).
	Workers int
	// BatchRows is how many rows travel together (default 1024); fewer when the rows are long,
	// so that a batch's bytes are bounded too.
	BatchRows int
	// OnProgress, if set, is called about every ProgressEvery with the rows read so far and
	// how many bytes of the (possibly compressed) input were consumed.
	OnProgress    func(p Progress)
	ProgressEvery time.Duration
	// RefKey, if set, gives each valid row the lookup key of its customer's reference code in
	// the campaign (notice.ReferenceKeys.OfRecipient), stored with it so that the code can be
	// verified later. It runs on the validating goroutines, beside the parsing it costs a
	// fraction of.
	RefKey func(campaignID, customerID string) int64
}

// Progress is how far an import has come.
type Progress struct {
	Rows  int64
	Bytes int64
}

// Importer imports customer lists. Build one with New and share it.
type Importer struct {
	store  breach.ImportStore
	phones *phone.Parser
	// Metrics counts the rows of completed imports by result (nil: not counted). Set it
	// before the first Run.
	Metrics *metrics.Metrics
}

// New returns an Importer that stores into store.
func New(store breach.ImportStore) (*Importer, error) {
	phones, err := phone.NewParser()
	if err != nil {
		return nil, err
	}
	return &Importer{store: store, phones: phones}, nil
}

// Run imports the list read from src into campaign c, under imp's ID and file name. The file
// name came from outside (an upload, a command line): Run keeps only its label
// (breach.FileLabel), "../../etc/passwd" being stored as "passwd". It returns the finished
// import. An error that is the list's fault (empty file, bad header) is an
// EINVALID *breach.Error naming the problem; nothing is stored then, but the failed import is
// recorded.
func (im *Importer) Run(ctx context.Context, c *breach.Campaign, imp *breach.Import, src io.Reader, opts Options) (*breach.Import, error) {
	imp.CampaignID = c.ID
	imp.Filename = breach.FileLabel(imp.Filename)
	imp.DefaultExposed = c.DefaultCategories()
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
	im.Metrics.ImportRows(imp.Accepted, imp.Rejected, imp.Merged)
	return imp, nil
}

// parse reads and validates every row and passes them to write in batches, in line order;
// imp.Read, imp.Rejected, imp.Encoding and imp.Delimiter are set here. progress is called about
// every opts.ProgressEvery with the rows read so far.
func (im *Importer) parse(ctx context.Context, c *breach.Campaign, imp *breach.Import, src io.Reader, opts Options,
	write func(context.Context, *breach.ImportBatch) error, progress func(context.Context, int64)) error {
	counted := &countingReader{r: src}
	rr, format, err := openList(counted, src, opts)
	if err != nil {
		return inputError(err, format, 0)
	}
	defer rr.Close()
	imp.Encoding, imp.Delimiter, imp.Sheet = format.Encoding, format.Delimiter, format.Sheet
	// Once the list is read: whether part of it was read as Windows-1252 is known only then.
	defer func() { imp.Encoding = format.encodingRead() }()

	header, err := rr.Read()
	if errors.Is(err, io.EOF) {
		return breach.Errorf(breach.EINVALID, "the file has no header row (it is empty)")
	}
	if err != nil {
		return inputError(fmt.Errorf("read header: %w", err), format, 0)
	}
	if header.oversize {
		// Rejecting it as a row would leave no header to read the rows by.
		return breach.Errorf(breach.EINVALID, "line %d (header): %s: a header row names at most %d columns, so this is not a customer list",
			header.line, header.problem, maxColumns)
	}
	if header.problem != "" {
		return breach.Errorf(breach.EINVALID, "line %d (header): %s", header.line, header.problem)
	}
	cols, err := mapHeader(header.fields, header.line, opts.Map)
	if err != nil {
		return breach.Errorf(breach.EINVALID, "line %d: %v", header.line, err)
	}
	rr.useHeader(cols, len(header.fields))
	v := &validator{cols: cols, phones: im.phones, defaultCountry: c.DefaultCountry, defaultExposed: c.DefaultCategories(),
		stateCodesAreUS: breach.StateCodesAreUS(c.DefaultCountry, c.Jurisdictions)}
	for _, f := range cols.kind {
		if f == fieldAttribute {
			v.maxAttributes++
		}
	}
	for _, f := range [...]field{fieldCity, fieldRegion, fieldPostalCode, fieldState} {
		if cols.index[f] >= 0 {
			v.maxAttributes++
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
	every := opts.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	report := func() {
		if opts.OnProgress != nil {
			opts.OnProgress(Progress{Rows: imp.Read, Bytes: counted.n.Load()})
		}
	}
	validate := v.row
	if opts.RefKey != nil {
		validate = func(rec record, cache *parseCache, r *breach.ImportRow) (*breach.Reject, []breach.Warning) {
			rej, warns := v.row(rec, cache, r)
			if rej == nil {
				r.RefKey = opts.RefKey(c.ID, r.CustomerID)
			}
			return rej, warns
		}
	}
	p := &pipeline{validate: validate, workers: workers, batchRows: batchRows, header: header.fields, headerCell: map[string]bool{}}
	for _, h := range header.fields {
		p.headerCell[h] = true
	}
	last := time.Now()
	listing := true // the listed warnings are still the first warned rows' (AppendWarnedRows)
	err = p.run(ctx, rr, func(b *breach.ImportBatch) error {
		imp.Read += int64(len(b.Rows) + len(b.Rejects))
		imp.Rejected += int64(len(b.Rejects))
		imp.Warned += b.WarnedRows
		imp.CountWarnedFields(b.Warnings)
		if listing && len(b.Warnings) > 0 {
			imp.Warnings, listing = breach.AppendWarnedRows(imp.Warnings, b.Warnings)
		}
		if !listing {
			// Past the first warned rows, the rows a quote may have cost the list customers
			// are still listed (up to as many again): behind a hundred names with markup,
			// the one warning that customers may be missing was not shown.
			imp.Warnings = appendQuoteRows(imp.Warnings, b.Warnings)
		}
		if err := write(ctx, b); err != nil {
			return fmt.Errorf("store rows: %w", err)
		}
		if time.Since(last) >= every {
			last = time.Now()
			report()
			progress(ctx, imp.Read)
		}
		return nil
	})
	if err != nil {
		return inputError(err, format, imp.Read)
	}
	report()
	return nil
}

// inputError makes a failure to read the list (a truncated gzip, an upload cut short) an
// EINVALID error that says where, while keeping the cause in the chain (the HTTP adapter
// answers 413 for an upload over its limit).
func inputError(err error, f Format, rows int64) error {
	var re *readError
	if !errors.As(err, &re) {
		return err
	}
	if nw := (*notWindows1252Error)(nil); errors.As(re.err, &nw) {
		return &listError{app: breach.Errorf(breach.EINVALID, "%v", nw), cause: re.err}
	}
	what := "the file"
	switch {
	case f.Gzip:
		what = "the gzip file"
	case f.Sheet != "":
		what = "the workbook"
	}
	return &listError{
		app:   breach.Errorf(breach.EINVALID, "%s could not be read to its end (after %d rows): it may be truncated or corrupt: %v", what, rows, re.err),
		cause: re.err,
	}
}

// readError marks an error from reading the input, as opposed to storing it.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// listError is a problem with the list: its message for the operator, and its cause.
type listError struct {
	app   *breach.Error
	cause error
}

func (e *listError) Error() string   { return e.app.Message }
func (e *listError) Unwrap() []error { return []error{e.app, e.cause} }

// ParseMap reads --map style column mappings ("COLUMN=FIELD") into Options.Map.
func ParseMap(pairs []string) (map[string]string, error) {
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		col, f, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(col) == "" {
			return nil, breach.Errorf(breach.EINVALID, "map %q: expected COLUMN=FIELD", p)
		}
		m[col] = f
	}
	return m, nil
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

// appendQuoteRows appends to listed the warnings of the rows of ws (whole rows) that have a
// quoteField warning and are not listed yet, while the list stays within twice
// MaxListedWarnings.
func appendQuoteRows(listed, ws []breach.Warning) []breach.Warning {
	for row := range breach.WarnedRows(ws) {
		if !slices.ContainsFunc(row, func(w breach.Warning) bool { return w.Field == quoteField }) ||
			len(listed) > 0 && listed[len(listed)-1].Line >= row[0].Line {
			continue
		}
		if len(listed)+len(row) > 2*breach.MaxListedWarnings {
			break
		}
		listed = append(listed, row...)
	}
	return listed
}
