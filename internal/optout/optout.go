// Package optout makes and checks the tokens that name one delivery in what leaves the system:
// opt-out links (/u/{token} and the List-Unsubscribe header) — which delivery a customer wants
// no more of — and the report tokens that providers echo back with their delivery reports (the
// SMS status callback URL, the email Message-ID). Both are signed so that nobody can forge one
// for somebody else's delivery, and carry no personal data: a recipient's number inside a
// campaign, not their address.
//
// The two kinds share one format but not one signature: each HMAC covers its purpose, so a
// report token pasted into an opt-out link (or the other way round) is simply invalid. A
// customer can read the report token in a notice's Message-ID; it must not let them opt anyone
// out, nor an opt-out link let them report a delivery.
package optout

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// version is the token format's first byte, so that a later format can be told apart.
const version = 1

// macSize is the length of the signature kept: 128 bits.
const macSize = 16

// ErrInvalid is returned for every token that is not one of ours, whatever is wrong with it:
// a caller answers 404 and reveals nothing.
var ErrInvalid = errors.New("optout: invalid token")

// Target is what a token names.
type Target struct {
	CampaignID  string
	RecipientID int64
	Channel     breach.Channel
}

// Purposes of a token, bound into its signature.
const (
	purposeOptOut = "optout"
	purposeReport = "report"
)

// Token returns the URL-safe opt-out token for target, signed with secret.
func Token(secret []byte, t Target) (string, error) { return token(secret, purposeOptOut, t) }

// Parse checks an opt-out token's signature and returns what it names, or ErrInvalid.
func Parse(secret []byte, tok string) (Target, error) { return parse(secret, purposeOptOut, tok) }

// ReportToken returns the token a provider echoes back with its reports about target's
// delivery: in the SMS status callback URL and the left part of the email Message-ID. It uses
// only letters, digits, '-' and '_', which fit both.
func ReportToken(secret []byte, t Target) (string, error) { return token(secret, purposeReport, t) }

// ParseReport checks a report token's signature and returns what it names, or ErrInvalid.
func ParseReport(secret []byte, tok string) (Target, error) { return parse(secret, purposeReport, tok) }

func token(secret []byte, purpose string, t Target) (string, error) {
	id, err := uuid.Parse(t.CampaignID)
	if err != nil {
		return "", errors.New("optout: campaign ID is not a UUID")
	}
	b := make([]byte, 0, 1+16+binary.MaxVarintLen64+1+macSize)
	b = append(b, version)
	b = append(b, id[:]...)
	b = binary.AppendUvarint(b, uint64(t.RecipientID))
	b = append(b, channelByte(t.Channel))
	b = append(b, sign(secret, purpose, b)...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func parse(secret []byte, purpose, tok string) (Target, error) {
	// A token has one spelling, so that nothing counting or limiting by path sees one token as
	// several: its characters only (the decoder skips line breaks), and strict (the last
	// character's unused bits must be zero).
	if strings.ContainsFunc(tok, func(r rune) bool {
		return !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	}) {
		return Target{}, ErrInvalid
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(b) < 1+16+1+1+macSize || b[0] != version {
		return Target{}, ErrInvalid
	}
	body, mac := b[:len(b)-macSize], b[len(b)-macSize:]
	if !hmac.Equal(mac, sign(secret, purpose, body)) {
		return Target{}, ErrInvalid
	}
	id, _ := uuid.FromBytes(body[1:17])
	rid, n := binary.Uvarint(body[17:])
	if n <= 0 || 17+n != len(body)-1 || rid > 1<<62 {
		return Target{}, ErrInvalid
	}
	ch, ok := channelOf(body[len(body)-1])
	if !ok {
		return Target{}, ErrInvalid
	}
	return Target{CampaignID: id.String(), RecipientID: int64(rid), Channel: ch}, nil
}

func sign(secret []byte, purpose string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose + "\x00"))
	m.Write(body)
	return m.Sum(nil)[:macSize]
}

func channelByte(ch breach.Channel) byte {
	if ch == breach.ChannelSMS {
		return 's'
	}
	return 'e'
}

func channelOf(b byte) (breach.Channel, bool) {
	switch b {
	case 'e':
		return breach.ChannelEmail, true
	case 's':
		return breach.ChannelSMS, true
	}
	return "", false
}
