// Package breach holds breachnotice's domain: campaigns, recipients, data categories, imports
// and the errors the rest of the system speaks in. It imports nothing of the other packages and
// no database, queue or HTTP library, so that every adapter (postgres, api, importer, …) depends
// on it and never on each other.
package breach
