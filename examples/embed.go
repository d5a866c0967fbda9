// Package examples ships the sample campaign file and customer list, embedded so that
// `breachnotice run` can load a demo campaign on a fresh database.
package examples

import _ "embed"

// Campaign is examples/campaign.yaml: a fictional telecom's breach, in four languages.
//
//go:embed campaign.yaml
var Campaign []byte

// Customers is examples/customers.csv: ~50 affected customers, a few deliberately bad rows.
//
//go:embed customers.csv
var Customers []byte
