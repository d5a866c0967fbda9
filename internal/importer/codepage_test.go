package importer

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
)

// koreanList is a list as Korean Excel saves it, Korean headers (mapped with --map) and all:
// names of two to four syllables, one with a syllable of CP949's extension (똠: its second byte
// is ASCII), a company with ㈜ and a middle dot, addresses.
const koreanList = "고객번호,이메일,이름,주소\n" +
	"K-1,minjun@example.kr,김민준,서울특별시 강남구 테헤란로 123\n" +
	"K-2,seoyeon@example.kr,이서연,부산광역시 해운대구 우동 45-6\n" +
	"K-3,ddom@example.kr,박똠이,대구광역시 중구 동성로 7\n" +
	"K-4,corp@example.kr,남궁민수,㈜한빛·상사 인천광역시 연수구 송도동 1\n"

var koreanMap = map[string]string{"고객번호": "customer_id", "이메일": "email", "이름": "name"}

// TestParse_KoreanCP949ListIsDetected: a list Korean Excel saved as "CSV" (CP949, no BOM) is
// detected as euc-kr — the name --encoding takes for it — and its names and attributes are
// read right, not as Windows-1252 mojibake (±è¹ÎÁØ).
func TestParse_KoreanCP949ListIsDetected(t *testing.T) {
	data := encode(t, korean.EUCKR, koreanList)
	for name, in := range map[string][]byte{"plain": data, "gzip": gzipBytes(t, data)} {
		t.Run(name, func(t *testing.T) {
			rows, rejects, imp := mustParseBytes(t, in, Options{Map: koreanMap})
			if imp.Encoding != "euc-kr" || len(rejects) != 0 {
				t.Fatalf("encoding %q, rejects %s; want euc-kr, none", imp.Encoding, describeRejects(rejects))
			}
			want := [][2]string{{"김민준", "서울특별시 강남구 테헤란로 123"}, {"이서연", "부산광역시 해운대구 우동 45-6"},
				{"박똠이", "대구광역시 중구 동성로 7"}, {"남궁민수", "㈜한빛·상사 인천광역시 연수구 송도동 1"}}
			if len(rows) != len(want) {
				t.Fatalf("%d rows, want %d", len(rows), len(want))
			}
			for i, w := range want {
				if rows[i].Name != w[0] || rows[i].Attribute("주소") != w[1] {
					t.Errorf("line %d: name %q, 주소 %q; want %q, %q (attributes %v)", rows[i].Line, rows[i].Name, rows[i].Attribute("주소"), w[0], w[1], rows[i].Extra)
				}
			}
		})
	}

	// English headers and a single customer; the surname and given name in columns of their own.
	for _, tt := range []struct{ name, list, want string }{
		{"one customer", "customer_id,email,name\nK-1,minjun@example.kr,김민준\n", "김민준"},
		{"surname apart", "customer_id,email,last_name,first_name\nK-1,minjun@example.kr,김,민준\nK-2,b@example.kr,이,서연\n", "김민준"},
		{"no final newline", "customer_id,email,name\nK-1,minjun@example.kr,김민준", "김민준"},
	} {
		rows, rejects, imp := mustParseBytes(t, encode(t, korean.EUCKR, tt.list), Options{})
		if imp.Encoding != "euc-kr" || len(rejects) != 0 || len(rows) == 0 || rows[0].Name != tt.want {
			t.Errorf("%s: encoding %q, rejects %s, rows %+v; want euc-kr, %q", tt.name, imp.Encoding, describeRejects(rejects), rows, tt.want)
		}
	}
}

// TestParse_KoreanListLongerThanTheSample: detection reads the first sniffBytes, which may end
// in the middle of a syllable; the rest of the file is read in the same encoding.
func TestParse_KoreanListLongerThanTheSample(t *testing.T) {
	surnames := []string{"김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "남궁"}
	given := []string{"민준", "서연", "도윤", "하은", "지호", "수아", "예준", "지우", "똠", "서윤"}
	var b strings.Builder
	b.WriteString("customer_id,email,name,주소\n")
	for i := 0; b.Len() < 2*sniffBytes; i++ {
		fmt.Fprintf(&b, "K%05d,k%05d@example.kr,%s%s,서울 테헤란로 %d\n", i, i, surnames[i%len(surnames)], given[i%len(given)], i)
	}
	data := encode(t, korean.EUCKR, b.String())
	// Every cut of the sample, whether between characters or after a lead byte, is euc-kr.
	for cut := sniffBytes; cut < sniffBytes+4; cut++ {
		if name, _ := detectEncoding(data[:cut]); name != "euc-kr" {
			t.Errorf("a sample of %d bytes: %s, want euc-kr", cut, name)
		}
	}
	rows, rejects, imp := mustParseBytes(t, data, Options{})
	if imp.Encoding != "euc-kr" || len(rejects) != 0 {
		t.Fatalf("encoding %q, rejects %s", imp.Encoding, describeRejects(rejects))
	}
	last := rows[len(rows)-1]
	i := len(rows) - 1
	if want := surnames[i%len(surnames)] + given[i%len(given)]; last.Name != want {
		t.Errorf("last row's name %q, want %q", last.Name, want)
	}
}

// japaneseList is a list as Japanese Excel saves it: kanji names, furigana in full-width and
// (from an older system) half-width katakana, kana names, addresses with 〒 and full-width
// digits.
const japaneseList = "顧客番号,メールアドレス,氏名,フリガナ,住所\n" +
	"J-1,tanaka@example.jp,田中太郎,タナカタロウ,〒100-0005 東京都千代田区丸の内１－１\n" +
	"J-2,sato@example.jp,佐藤花子,ｻﾄｳﾊﾅｺ,大阪府大阪市北区梅田２－４－９\n" +
	"J-3,suzuki@example.jp,鈴木　さくら,スズキサクラ,北海道札幌市中央区\n" +
	"J-4,marie@example.jp,マリー・ルグラン,マリールグラン,神奈川県横浜市西区みなとみらい\n" +
	"J-5,takahashi@example.jp,髙橋一郎,タカハシイチロウ,福岡県福岡市博多区\n"

var japaneseMap = map[string]string{"顧客番号": "customer_id", "メールアドレス": "email", "氏名": "name"}

// TestParse_JapaneseShiftJISListIsDetected: a list Japanese Excel saved as "CSV" (Shift-JIS)
// is detected as shift_jis, names and attributes read right — including katakana, whose second
// byte is often ASCII (タ is 0x83 0x5E).
func TestParse_JapaneseShiftJISListIsDetected(t *testing.T) {
	data := encode(t, japanese.ShiftJIS, japaneseList)
	rows, rejects, imp := mustParseBytes(t, data, Options{Map: japaneseMap})
	if imp.Encoding != "shift_jis" || len(rejects) != 0 {
		t.Fatalf("encoding %q, rejects %s; want shift_jis, none", imp.Encoding, describeRejects(rejects))
	}
	want := [][2]string{{"田中太郎", "タナカタロウ"}, {"佐藤花子", "ｻﾄｳﾊﾅｺ"}, {"鈴木 さくら", "スズキサクラ"}, // a name's ideographic space is a space
		{"マリー・ルグラン", "マリールグラン"}, {"髙橋一郎", "タカハシイチロウ"}}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		if rows[i].Name != w[0] || rows[i].Attribute("フリガナ") != w[1] {
			t.Errorf("line %d: name %q, フリガナ %q; want %q, %q", rows[i].Line, rows[i].Name, rows[i].Attribute("フリガナ"), w[0], w[1])
		}
	}

	for _, tt := range []struct{ name, list, want string }{
		{"one customer", "customer_id,email,name\nJ-1,tanaka@example.jp,田中太郎\n", "田中太郎"},
		{"katakana only", "customer_id,email,name\nJ-1,tanaka@example.jp,タナカ\nJ-2,b@example.jp,ミキ\n", "タナカ"},
		{"hiragana only", "customer_id,email,name\nJ-1,sato@example.jp,さとう\n", "さとう"},
	} {
		rows, rejects, imp := mustParseBytes(t, encode(t, japanese.ShiftJIS, tt.list), Options{})
		if imp.Encoding != "shift_jis" || len(rejects) != 0 || len(rows) == 0 || rows[0].Name != tt.want {
			t.Errorf("%s: encoding %q, rejects %s, rows %+v; want shift_jis, %q", tt.name, imp.Encoding, describeRejects(rejects), rows, tt.want)
		}
	}
}

// TestParse_ForcedEncodingIsNotDetected: --encoding is obeyed as before, whatever the bytes
// look like; the Windows names of the Korean and Japanese code pages are accepted.
func TestParse_ForcedEncodingIsNotDetected(t *testing.T) {
	kr := encode(t, korean.EUCKR, "customer_id,email,name\nK-1,minjun@example.kr,김민준\n")
	jp := encode(t, japanese.ShiftJIS, "customer_id,email,name\nJ-1,tanaka@example.jp,田中太郎\n")
	for _, tt := range []struct {
		data           []byte
		forced         string
		encoding, name string
	}{
		{kr, "euc-kr", "euc-kr", "김민준"},
		{kr, "cp949", "euc-kr", "김민준"},
		{kr, "windows-949", "euc-kr", "김민준"},
		{kr, "windows-1252", "windows-1252", "±è¹ÎÁØ"}, // told so: read so
		{jp, "shift_jis", "shift_jis", "田中太郎"},
		{jp, "sjis", "shift_jis", "田中太郎"},
		{jp, "cp932", "shift_jis", "田中太郎"},
	} {
		rows, _, imp := mustParseBytes(t, tt.data, Options{Encoding: tt.forced})
		if imp.Encoding != tt.encoding || len(rows) != 1 || rows[0].Name != tt.name {
			t.Errorf("--encoding %s: encoding %q, rows %+v; want %q, %q", tt.forced, imp.Encoding, rows, tt.encoding, tt.name)
		}
	}
}

// westernNames are names and words of Western-European lists whose Windows-1252 bytes could
// pass for CP949 or Shift-JIS: accented letters together (Ñúñez, Müßig, Conceição), capitals
// (ÉLODIE, JOÃO, whose bytes before an ASCII letter are a valid CP949 Hangul syllable), curly
// quotes and apostrophes, the euro sign, ordinals.
var westernNames = []string{
	"José Ñúñez", "Hélène Lefèvre", "Françoise Gonçalves", "ÉLODIE DUPRÉ", "Jürgen Müßig",
	"Maria da Conceição", "Assunção", "João", "São Paulo", "Müller", "Groß", "Björn Ækerlund",
	"Zoë", "Chloé", "André", "Inês", "Fátima", "Ibáñez", "NÚÑEZ", "MUÑOZ", "CONCEIÇÃO",
	"ASSUNÇÃO", "JOÃO", "ÁLVARO", "ÁLVAREZ", "ÇÃ", "O’Brien", "D’Arcy", "“Pepe” Peña", "Señor",
	"Œuvre", "Cœur", "Lætitia", "50 €", "nº 5", "2ª", "¿Qué?", "¡Olé!", "Straße", "Düsseldorf",
	"Köln", "Besançon", "Orléans", "Noël", "Anaïs", "Maël", "Loïc", "Jérôme", "Benoît", "Ñandú",
	"Bogotá", "Medellín", "Cancún", "GONÇALVES", "ANTÔNIO", "ÂNGELA", "ÃÇÃO", "Ägypten",
	"Øresund", "Ærø", "Åsa", "Hämäläinen", "Jääskeläinen", "Ääneksoki", "Mãe", "Ação", "Pão", "Éire", "Caña", "Niño", "Señora Muñoz",
	"«Gato»", "Café–Bar", "1°", "Müßiggang", "Cañón", "Güell", "Agüero", "Ñ",
}

// TestDetectEncoding_WesternWindows1252IsNeverEastAsian: a Western-European Windows-1252 list
// is never taken for Korean or Japanese — not whole, not one name of it alone, in capitals or
// not, in any pair of its names — and keeps its accents when parsed.
//
// Not covered, knowingly: a list whose only non-ASCII bytes are curly apostrophes two letters
// apart (Rock’n’Roll: ’n and ’R read as two kanji in a row), or Slovene š and ž (Jože Šuštar),
// reads as Shift-JIS; one accented letter at the end of a word anywhere in the sample (José,
// André) makes it Windows-1252 again.
func TestDetectEncoding_WesternWindows1252IsNeverEastAsian(t *testing.T) {
	check := func(what, text string) {
		t.Helper()
		data := encode(t, charmap.Windows1252, text)
		if name, _ := detectEncoding(data); name != "windows-1252" && name != "utf-8" {
			t.Errorf("%s: detected as %s: %q", what, name, text)
		}
	}
	rowOf := func(i int, name string) string { return fmt.Sprintf("C%d,c%d@example.com,%s\n", i, i, name) }
	const header = "customer_id,email,name\n"
	var forms []string
	for _, n := range westernNames {
		forms = append(forms, n, strings.ToUpper(n), strings.ToLower(n))
	}
	for _, n := range forms {
		check("one name", header+rowOf(1, n))
		check("one name, no final newline", strings.TrimSuffix(header+rowOf(1, n), "\n"))
		check("one name, alone", n)
		check("one name, quoted", header+fmt.Sprintf("C1,c1@example.com,\"%s\"\n", n))
		check("one name, semicolons", strings.ReplaceAll(header+rowOf(1, n), ",", ";"))
	}
	for _, a := range forms {
		for _, b := range forms {
			check("two names", header+rowOf(1, a)+rowOf(2, b))
			check("a full name", header+rowOf(1, a+" "+b))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		var b strings.Builder
		b.WriteString(header)
		for j := range 1 + rng.IntN(6) {
			b.WriteString(rowOf(j, forms[rng.IntN(len(forms))]+" "+forms[rng.IntN(len(forms))]))
		}
		check(fmt.Sprintf("random list %d", i), b.String())
	}

	// A whole list, longer than the sample, parsed.
	var b strings.Builder
	b.WriteString(header)
	for i := 0; b.Len() < 2*sniffBytes; i++ {
		b.WriteString(rowOf(i, westernNames[i%len(westernNames)]))
	}
	rows, rejects, imp := mustParseBytes(t, encode(t, charmap.Windows1252, b.String()), Options{})
	if imp.Encoding != "windows-1252" || len(rejects) != 0 {
		t.Fatalf("encoding %q, rejects %s", imp.Encoding, describeRejects(rejects))
	}
	for i, r := range rows[:len(westernNames)] {
		if want := westernNames[i]; r.Name != want && !strings.Contains(r.Name, strings.Trim(want, "“”«»")) {
			t.Errorf("line %d: name %q, want %q", r.Line, r.Name, want)
		}
	}
}

// TestParse_KoreanPastTheSampleOfAnASCIIList: a list whose first 64 KiB are ASCII is detected
// as UTF-8; Korean further on cannot be read a byte at a time as Windows-1252 without mangling
// every name (김민준 as ±è¹Î...), so the import stops there, naming the line and the --encoding
// that reads it, which it then does.
func TestParse_KoreanPastTheSampleOfAnASCIIList(t *testing.T) {
	prefix, bad := bigASCIIPrefix(",")
	data := append(encode(t, korean.EUCKR, prefix), encode(t, korean.EUCKR, "LATE-1,minjun@example.kr,김민준\n")...)
	_, _, _, err := parseBytes(t, data, Options{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("line %d:", bad)) || !strings.Contains(err.Error(), "--encoding euc-kr") || strings.Contains(err.Error(), "truncated") {
		t.Errorf("parse: %v, want the file refused at line %d with --encoding euc-kr advised", err, bad)
	}
	rows, _, imp := mustParseBytes(t, data, Options{Encoding: "euc-kr"})
	if imp.Encoding != "euc-kr" || rows[len(rows)-1].Name != "김민준" {
		t.Errorf("--encoding euc-kr: encoding %q, last name %q", imp.Encoding, rows[len(rows)-1].Name)
	}
	// Three accented capitals together are still Windows-1252 (ÉÀÔ), not a refusal.
	latin := append([]byte(prefix), "LATE-1,ana@example.fr,Ana \xc9\xc0\xd4 Dupont\n"...)
	if rows, _, imp := mustParseBytes(t, latin, Options{}); rows[len(rows)-1].Name != "Ana ÉÀÔ Dupont" {
		t.Errorf("Windows-1252 past the sample: name %q (encoding %q)", rows[len(rows)-1].Name, imp.Encoding)
	}
}
