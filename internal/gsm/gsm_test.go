package gsm

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

const (
	koreanNotice = "고객님의 개인정보가 유출되었습니다" // 16 Hangul + 2 spaces = 18 BMP characters
	hangul       = "가"
	emoji        = "😀" // U+1F600, outside the BMP: a surrogate pair in UTF-16
)

func rep(s string, n int) string { return strings.Repeat(s, n) }

func TestMeasure_SegmentBoundaries(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Info
	}{
		{"empty body is zero segments", "", Info{GSM7, 0, 0}},
		{"one letter", "a", Info{GSM7, 1, 1}},
		{"160 letters fill one GSM-7 segment", rep("a", 160), Info{GSM7, 160, 1}},
		{"161 letters need two GSM-7 segments (153+8)", rep("a", 161), Info{GSM7, 161, 2}},
		{"306 letters fill two 153-septet segments", rep("a", 306), Info{GSM7, 306, 2}},
		{"307 letters need three GSM-7 segments", rep("a", 307), Info{GSM7, 307, 3}},
		{"70 Hangul fill one UCS-2 segment", rep(hangul, 70), Info{UCS2, 70, 1}},
		{"71 Hangul need two UCS-2 segments (67+4)", rep(hangul, 71), Info{UCS2, 71, 2}},
		{"134 Hangul fill two 67-unit segments", rep(hangul, 134), Info{UCS2, 134, 2}},
		{"135 Hangul need three UCS-2 segments", rep(hangul, 135), Info{UCS2, 135, 3}},
		{"Korean notice is UCS-2, one unit per Hangul", koreanNotice, Info{UCS2, 18, 1}},
		{"CRLF is two GSM-7 septets", "a\r\nb", Info{GSM7, 4, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Measure(tt.body); got != tt.want {
				t.Errorf("Measure(%d runes) = %+v, want %+v", len([]rune(tt.body)), got, tt.want)
			}
		})
	}
}

func TestMeasure_EuroCountsTwoSeptets(t *testing.T) {
	tests := []struct {
		body string
		want Info
	}{
		{"€", Info{GSM7, 2, 1}},
		{"Total 5€", Info{GSM7, 9, 1}},
		{rep("a", 159) + "€", Info{GSM7, 161, 2}}, // 161 septets: no longer fits one segment
		{rep("a", 158) + "€", Info{GSM7, 160, 1}},
		{rep("€", 80), Info{GSM7, 160, 1}},
		{rep("€", 81), Info{GSM7, 162, 2}},
	}
	for _, tt := range tests {
		if got := Measure(tt.body); got != tt.want {
			t.Errorf("Measure(%q) = %+v, want %+v", abbrev(tt.body), got, tt.want)
		}
	}
}

func TestMeasure_ExtensionCharactersCountTwoSeptets(t *testing.T) {
	for _, r := range "\f^{}\\[~]|€" {
		if got, want := Measure(string(r)), (Info{GSM7, 2, 1}); got != want {
			t.Errorf("Measure(%q) = %+v, want %+v", r, got, want)
		}
		if got, want := Measure("x"+string(r)+"x"), (Info{GSM7, 4, 1}); got != want {
			t.Errorf("Measure(%q) = %+v, want %+v", "x"+string(r)+"x", got, want)
		}
	}
}

// An extension character is ESC + code; a segment cannot end on the ESC, so
// when the pair would occupy septets 153 and 154 it moves whole to the next
// segment, and the message can need one segment more than septets/153.
func TestMeasure_ExtensionPairIsNotSplitAcrossSegments(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Info
	}{
		{
			// 151 + 2 = 153 | 153: the pair ends segment 1 exactly.
			"pair ending on septet 153 stays in segment 1",
			rep("a", 151) + "€" + rep("a", 153),
			Info{GSM7, 306, 2},
		},
		{
			// 152 | 2 + 151 = 153 | 1: the pair would straddle 153/154, so
			// it moves to segment 2, which pushes the last letter to 3.
			"pair straddling septets 153/154 moves to segment 2",
			rep("a", 152) + "€" + rep("a", 152),
			Info{GSM7, 306, 3},
		},
		{
			"pair straddling the boundary with the rest fitting",
			rep("a", 152) + "{" + rep("a", 10),
			Info{GSM7, 164, 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Measure(tt.body); got != tt.want {
				t.Errorf("Measure = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMeasure_EmojiCountsTwoUnitsAndIsNotSplit(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Info
	}{
		{"one emoji is two units", emoji, Info{UCS2, 2, 1}},
		{"emoji forces UCS-2 on ASCII text", "hi " + emoji, Info{UCS2, 5, 1}},
		{"35 emoji fill one segment", rep(emoji, 35), Info{UCS2, 70, 1}},
		// 33 emoji (66 units) per 67-unit segment: 36 emoji → 33 + 3.
		{"36 emoji need two segments", rep(emoji, 36), Info{UCS2, 72, 2}},
		// 65 + 2 = 67 | 67: the pair ends segment 1 exactly.
		{"surrogate pair ending on unit 67", rep(hangul, 65) + emoji + rep(hangul, 67), Info{UCS2, 134, 2}},
		// 66 | 2 + 65 = 67 | 1: the pair would straddle 67/68 and moves.
		{"surrogate pair straddling units 67/68 moves to segment 2", rep(hangul, 66) + emoji + rep(hangul, 66), Info{UCS2, 134, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Measure(tt.body); got != tt.want {
				t.Errorf("Measure = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMeasure_InvalidUTF8IsUCS2(t *testing.T) {
	if got, want := Measure("ab\xffc"), (Info{UCS2, 4, 1}); got != want {
		t.Errorf("Measure = %+v, want %+v", got, want)
	}
}

func TestInfo_JSON(t *testing.T) {
	b, err := json.Marshal(Measure("€"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"encoding":"GSM-7","units":2,"segments":1}`; got != want {
		t.Errorf("json = %s, want %s", got, want)
	}
}

// gsm0338 is the standard's default alphabet written out independently of
// the implementation's table, in code order 0x00–0x7F, with ESC (0x1B)
// omitted.
const gsm0338 = "@£$¥èéùìòÇ\nØø\rÅå" +
	"Δ_ΦΓΛΩΠΨΣΘΞ" + "ÆæßÉ" +
	" !\"#¤%&'()*+,-./" +
	"0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNO" +
	"PQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmno" +
	"pqrstuvwxyzäöñüà"

const gsm0338Extension = "\f^{}\\[~]|€"

func TestIsGSM7_MatchesStandardTable(t *testing.T) {
	if n := len([]rune(gsm0338)); n != 127 {
		t.Fatalf("test table has %d characters, want 127 (128 minus ESC)", n)
	}
	want := map[rune]bool{}
	for _, r := range gsm0338 + gsm0338Extension {
		want[r] = true
	}
	for _, r := range gsm0338 {
		if got := Measure(string(r)).Units; got != 1 {
			t.Errorf("%q: %d septets, want 1", r, got)
		}
	}
	for _, r := range gsm0338Extension {
		if got := Measure(string(r)).Units; got != 2 {
			t.Errorf("%q: %d septets, want 2", r, got)
		}
	}
	// Brute force: IsGSM7, the table and Measure of a single rune agree
	// for every rune 0–0x2FFF (covers Latin, Greek, punctuation and €).
	count := 0
	for r := rune(0); r <= 0x2FFF; r++ {
		is := IsGSM7(r)
		if is != want[r] {
			t.Errorf("IsGSM7(%U %q) = %v, standard says %v", r, r, is, want[r])
		}
		if enc := Measure(string(r)).Encoding; (enc == GSM7) != is {
			t.Errorf("Measure(%U).Encoding = %s but IsGSM7 = %v", r, enc, is)
		}
		if is {
			count++
		}
	}
	if count != 137 {
		t.Errorf("%d GSM-7 runes, want 137 (127 default + 10 extension)", count)
	}
}

func TestIsGSM7_LookalikesOutsideTheSet(t *testing.T) {
	for _, r := range "çÈÊËÁÍÓÚáíóúâêîôûãõœŒ`¢°\t\x1b\u00a0’“«»–—…αβ" {
		if IsGSM7(r) {
			t.Errorf("IsGSM7(%q) = true, want false", r)
		}
	}
	for _, r := range "Çé è à ù ì ò ñÑüÜöÖäÄåÅøØæÆßÉ¿¡¤§ΔΩ€" {
		if !IsGSM7(r) {
			t.Errorf("IsGSM7(%q) = false, want true", r)
		}
	}
}

func TestTransliterate_Characters(t *testing.T) {
	tests := []struct{ in, want string }{
		// Dropped accents (not in GSM-7).
		{"áíóúâêîôûëïãõÿý", "aiouaeiouei" + "aoyy"},
		{"ÁÍÓÚÂÊÎÔÛÈËÏÀÙÌÒÃÕÝ", "AIOUAEIOUEEIAUIOAOY"},
		{"ç", "c"},
		{"Ç", "Ç"},
		{"œŒĳĲ", "oeOEijIJ"},
		{"ŁódźŠkodaȘtefan", "LodzSkodaStefan"},
		// Kept: all in GSM-7.
		{"ñÑüÜéÉèàòùìöäÄÖÅåØøßæÆ¿¡", "ñÑüÜéÉèàòùìöäÄÖÅåØøßæÆ¿¡"},
		// Punctuation.
		{"‘a’ ‚b‛", "'a' 'b'"},
		{"“a” „b‟", `"a" "b"`},
		{"«a»", `"a"`},
		{"a–b—c‑d−e", "a-b-c-d-e"},
		{"Espere…", "Espere..."},
		{"`x´", "'x'"},
		{"N.º 5, 1ª", "N.o 5, 1a"},
		{"3×2", "3x2"},
		{"Marca™ ©", "MarcaTM (c)"},
		// Spaces and invisible characters.
		{"a\u00a0b\u202fc\u2009d\u3000e\tf", "a b c d e f"},
		{"in\u00adfor\u200bma\ufefftion", "information"},
		// Decomposed accents.
		{"n\u0303andu\u0301", "ñandu"},
		{"E\u0301 e\u0300 C\u0327 c\u0327", "É è Ç c"},
		{"a\u0301\u0301", "a"},
		{"œ\u0301", "oé"},
		// No honest equivalent: left as is.
		{koreanNotice, koreanNotice},
		{"Уважаемый клиент", "Уважаемый клиент"},
		{"您的数据", "您的数据"},
		{"ok " + emoji + " \u200d", "ok " + emoji + " \u200d"},
		{"Ж\u0301", "Ж\u0301"},
		{"°C m² ¢ ½", "°C m² ¢ ½"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Transliterate(tt.in); got != tt.want {
			t.Errorf("Transliterate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTransliterate_KeepsEveryGSM7Character(t *testing.T) {
	for _, r := range gsm0338 + gsm0338Extension {
		if got := Transliterate(string(r)); got != string(r) {
			t.Errorf("Transliterate(%q) = %q, want it unchanged", r, got)
		}
	}
}

func TestTransliterate_TableMapsNonGSM7ToGSM7(t *testing.T) {
	for from, to := range translit {
		if IsGSM7(from) {
			t.Errorf("translit maps %q, which is already GSM-7", from)
		}
		if !allGSM7(to) {
			t.Errorf("translit[%q] = %q is not all GSM-7", from, to)
		}
	}
	for k, c := range compositions {
		if !IsGSM7(k[0]) || !IsGSM7(c) {
			t.Errorf("composition %q+%U → %q leaves GSM-7", k[0], k[1], c)
		}
	}
}

func TestTransliterate_NanduBecomesGSM7(t *testing.T) {
	const in = "ñandú"
	if got, want := Measure(in), (Info{UCS2, 5, 1}); got != want {
		t.Errorf("Measure(%q) = %+v, want %+v (ú is not GSM-7)", in, got, want)
	}
	out := Transliterate(in)
	if out != "ñandu" {
		t.Errorf("Transliterate(%q) = %q, want %q", in, out, "ñandu")
	}
	if got, want := Measure(out), (Info{GSM7, 5, 1}); got != want {
		t.Errorf("Measure(%q) = %+v, want %+v", out, got, want)
	}
}

func TestTransliterate_NoticesBeforeAndAfter(t *testing.T) {
	tests := []struct {
		name     string
		in, want string
		before   Info
		after    Info
	}{
		{
			name: "Spanish sentence: 2 UCS-2 segments become 1 GSM-7",
			in:   "Estimado cliente: su información fue expuesta. Código: 7KQ2-M9XD. Más información en https://andinatel.com.pe/seguridad",
			want: "Estimado cliente: su informacion fue expuesta. Codigo: 7KQ2-M9XD. Mas informacion en https://andinatel.com.pe/seguridad",
			// 119 characters: 67 + 52 units in UCS-2, 119 septets in GSM-7.
			before: Info{UCS2, 119, 2},
			after:  Info{GSM7, 119, 1},
		},
		{
			name: "Spanish notice: 5 UCS-2 segments become 2 GSM-7, ñ and é kept",
			in:   "Estimado cliente, le informamos que el 12/03 detectamos un acceso no autorizado a nuestros sistemas. Sus datos (nombre, DNI y teléfono) pudieron ser expuestos. No se vieron afectadas contraseñas ni datos bancarios. Código de verificación: 7KQ2-M9XD. Más información en https://andinatel.com.pe/seguridad",
			want: "Estimado cliente, le informamos que el 12/03 detectamos un acceso no autorizado a nuestros sistemas. Sus datos (nombre, DNI y teléfono) pudieron ser expuestos. No se vieron afectadas contraseñas ni datos bancarios. Codigo de verificacion: 7KQ2-M9XD. Mas informacion en https://andinatel.com.pe/seguridad",
			// 303 characters: ceil(303/67) = 5 UCS-2, 153 + 150 GSM-7.
			before: Info{UCS2, 303, 5},
			after:  Info{GSM7, 303, 2},
		},
		{
			name: "French notice: 4 UCS-2 segments become 2 GSM-7, é è à Ç kept",
			in:   "Chère cliente, cher client\u202f: vos données (nom, e\u2011mail) ont été exposées à la suite d’un incident. Votre reçu n’est pas concerné. Conseil «\u00a0sécurité\u00a0»\u202f: changez votre mot de passe. Ça prend 2\u00a0minutes — merci de votre confiance, c’est notre cœur de métier.",
			want: "Chère cliente, cher client : vos données (nom, e-mail) ont été exposées à la suite d'un incident. Votre recu n'est pas concerné. Conseil \" sécurité \" : changez votre mot de passe. Ça prend 2 minutes - merci de votre confiance, c'est notre coeur de métier.",
			// 254 characters: 67+67+67+53 units; œ→oe adds one: 255
			// septets = 153 + 102.
			before: Info{UCS2, 254, 4},
			after:  Info{GSM7, 255, 2},
		},
		{
			name:   "Korean notice stays UCS-2 and unchanged",
			in:     koreanNotice,
			want:   koreanNotice,
			before: Info{UCS2, 18, 1},
			after:  Info{UCS2, 18, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Measure(tt.in); got != tt.before {
				t.Errorf("before: Measure = %+v, want %+v", got, tt.before)
			}
			out := Transliterate(tt.in)
			if out != tt.want {
				t.Errorf("Transliterate =\n%q\nwant\n%q", out, tt.want)
			}
			if got := Measure(out); got != tt.after {
				t.Errorf("after: Measure = %+v, want %+v", got, tt.after)
			}
		})
	}
}

// latinAlphabet is ASCII letters, space and accented Latin letters, in and
// out of GSM-7: what Spanish, French, Portuguese, German and Central
// European notices are made of.
var latinAlphabet = []rune("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ" +
	"áéíóúàèìòùâêîôûäëïöüÿãõñçœæåøß" +
	"ÁÉÍÓÚÀÈÌÒÙÂÊÎÔÛÄËÏÖÜŸÃÕÑÇŒÆÅØ" +
	"ąćęłńśźżčďěňřšťůžőűİı")

// anyAlphabet adds punctuation, spaces, invisible characters, combining
// marks, other scripts, emoji and extension characters.
var anyAlphabet = append([]rune("’‘“”«»–—…\u00a0\u202f\u200b\u00ad\ufeff\t\u0301\u0300\u0303\u0308\u0327\u200d"+
	"가나다您数УЖ€{}[]^~|\\°²"+emoji), latinAlphabet...)

func randomString(rng *rand.Rand, alphabet []rune, maxLen int) string {
	n := rng.IntN(maxLen + 1)
	rs := make([]rune, n)
	for i := range rs {
		rs[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(rs)
}

func TestTransliterate_LatinTextNeverCostsMoreSegments(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		s := randomString(rng, latinAlphabet, 400)
		out := Transliterate(s)
		before, after := Measure(s), Measure(out)
		if after.Segments > before.Segments {
			t.Fatalf("Transliterate(%q) costs %d segments, original %d", s, after.Segments, before.Segments)
		}
		if after.Encoding != GSM7 {
			t.Fatalf("Transliterate(%q) = %q is still %s", s, out, after.Encoding)
		}
	}
}

func TestTransliterate_Idempotent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		s := randomString(rng, anyAlphabet, 200)
		once := Transliterate(s)
		if twice := Transliterate(once); twice != once {
			t.Fatalf("not idempotent on %q:\nonce  %q\ntwice %q", s, once, twice)
		}
	}
	for _, s := range []string{"ab\xffc", "\xc3", "é\xe2\x80"} {
		once := Transliterate(s)
		if twice := Transliterate(once); twice != once {
			t.Errorf("not idempotent on %q: %q then %q", s, once, twice)
		}
	}
}

func abbrev(s string) string {
	if r := []rune(s); len(r) > 20 {
		return string(r[:8]) + "…" + string(r[len(r)-8:])
	}
	return s
}
