package web

import (
	"context"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// actorOf returns the signed-in user as the actor of an operation.
func actorOf(ctx context.Context) breach.Actor {
	if u := userOf(ctx); u != nil {
		return breach.UserActor(u)
	}
	return breach.Actor{}
}
