package email

import "testing"

func TestMessageIDFor_BuildsOnTheSenderDomainAndSurvivesTheMessage(t *testing.T) {
	m := testMessage("a@example.net")
	m.MessageID = MessageIDFor("AQ-token_42", m.From)
	raw, err := Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := parse(t, raw).Header.Get("Message-ID")
	if local, ok := MessageIDLocal(got); !ok || local != "AQ-token_42" {
		t.Errorf("Message-ID %q gives local part %q, %v", got, local, ok)
	}
	if want := "<AQ-token_42@" + m.From[len("notice@"):] + ">"; got != want {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
}

func TestMessageIDLocal_AcceptsRelaySpellingsAndRejectsOthers(t *testing.T) {
	for in, want := range map[string]string{
		"<tok@example.com>": "tok", "tok@example.com": "tok", " <tok@example.com> ": "tok",
	} {
		if got, ok := MessageIDLocal(in); !ok || got != want {
			t.Errorf("MessageIDLocal(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "<>", "tok", "<tok@example.com", "@example.com", "tok@", "<a@b@c>"} {
		if got, ok := MessageIDLocal(bad); ok {
			t.Errorf("MessageIDLocal(%q) = %q, want no local part", bad, got)
		}
	}
}
