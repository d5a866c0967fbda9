package postgres

import (
	"context"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// copyText runs `COPY table (columns) FROM STDIN` on tx's connection, streaming the rows that
// next appends to its buffer in PostgreSQL's text format, until next reports there are no more.
//
// Why not pgx's CopyFrom: it encodes every value through pgtype's type map, which cost a
// quarter of the importer's CPU; the rows here are strings and small integers that need only
// escaping, and PostgreSQL parses them as cheaply as binary.
//
// freeze copies the rows already frozen (COPY … FREEZE), for a table created in tx and seen by
// no one else until it commits: its pages are written all-visible, so the first reads after
// the import (approval, the first claims) do not rewrite every page to set hint bits, and
// autovacuum has nothing to freeze in it later. The price, PostgreSQL's documented exception to
// MVCC: a repeatable-read snapshot taken before the import committed sees the rows once it has
// (not the imports row that brought them). No reader here holds one across a new campaign's
// first import: imports take drafts only, and the status's repeatable-read read is of a
// running campaign.
func copyText(ctx context.Context, tx pgx.Tx, table string, columns []string, freeze bool, next func(b []byte) ([]byte, bool)) (int64, error) {
	sql := "COPY " + pgx.Identifier{table}.Sanitize() + " ("
	for i, c := range columns {
		if i > 0 {
			sql += ", "
		}
		sql += pgx.Identifier{c}.Sanitize()
	}
	sql += ") FROM STDIN"
	if freeze {
		sql += " WITH (FREEZE)"
	}
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, &rowReader{next: next}, sql)
	return tag.RowsAffected(), err
}

// rowReader turns a row encoder into the io.Reader that pgconn's CopyFrom sends from.
type rowReader struct {
	next func(b []byte) ([]byte, bool)
	buf  []byte
	off  int
	done bool
}

func (r *rowReader) Read(p []byte) (int, error) {
	for len(r.buf)-r.off < len(p) && !r.done {
		if r.off > 0 {
			r.buf = append(r.buf[:0], r.buf[r.off:]...)
			r.off = 0
		}
		var more bool
		if r.buf, more = r.next(r.buf); !more {
			r.done = true
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	if n == 0 && r.done {
		return 0, io.EOF
	}
	return n, nil
}

// appendText appends s as one field of COPY's text format: backslash, tab, newline and carriage
// return escaped, other control characters (which validation refuses anyway) in octal.
func appendText[S ~string | ~[]byte](b []byte, s S) []byte {
	// Nearly every value needs no escaping: find out in one pass, then copy it whole.
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '\\' || c == 0x7f {
			plain = false
			break
		}
	}
	if plain {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', '0'+c>>6, '0'+c>>3&7, '0'+c&7)
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendNullable appends s, or NULL (\N) when s is empty.
func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, '\\', 'N')
	}
	return appendText(b, s)
}

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }
