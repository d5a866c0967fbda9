// Package email sends breachnotice's email notices: it renders a notice as an RFC 5322
// message (its own MIME writer, the bytes go-mail's wrote: see appendMessage), signs it with
// DKIM when a key is configured (go-msgauth), and delivers it over a small pool of persistent
// SMTP connections (go-mail's SMTP client, Sender) to one relay, or to several chosen by weight
// with failover (Pool, SMTP_URLS) — or, in development, writes it to a directory.
//
// The package decides nothing about who is told what: it gets a finished Message and reports
// back either the Message-ID it was accepted under or an *Error saying whether trying again
// can help. Recording the outcome, retrying and falling back to SMS belong to the caller.
//
// Nothing here logs. Errors never quote a password, and an *Error's text never quotes the
// recipient's address (its Err may: see Error).
package email
