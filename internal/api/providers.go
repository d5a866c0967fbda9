package api

// ProviderStore is what the provider webhooks need: delivery reports, bounces, complaints and
// inbound STOP messages applied to the record.
type ProviderStore interface{}

// providerRoutes are the public, signature-checked webhooks of the SMS and email providers.
func (s *Server) providerRoutes() []Route { return nil }
