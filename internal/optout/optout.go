// Package optout makes and checks the tokens of opt-out links (/u/{token} and the
// List-Unsubscribe header): which delivery a customer wants no more of, signed so that nobody
// can forge one for somebody else, and carrying no personal data — a recipient's number inside
// a campaign, not their address.
package optout

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"

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

// Token returns the URL-safe token for target, signed with secret.
func Token(secret []byte, t Target) (string, error) {
	id, err := uuid.Parse(t.CampaignID)
	if err != nil {
		return "", errors.New("optout: campaign ID is not a UUID")
	}
	b := make([]byte, 0, 1+16+binary.MaxVarintLen64+1+macSize)
	b = append(b, version)
	b = append(b, id[:]...)
	b = binary.AppendUvarint(b, uint64(t.RecipientID))
	b = append(b, channelByte(t.Channel))
	b = append(b, sign(secret, b)...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Parse checks a token's signature and returns what it names, or ErrInvalid.
func Parse(secret []byte, token string) (Target, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < 1+16+1+1+macSize || b[0] != version {
		return Target{}, ErrInvalid
	}
	body, mac := b[:len(b)-macSize], b[len(b)-macSize:]
	if !hmac.Equal(mac, sign(secret, body)) {
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

func sign(secret, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("optout\x00"))
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
