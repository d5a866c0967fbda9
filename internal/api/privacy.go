package api

// PrivacyStore is what the audit log and personal-data purge need.
type PrivacyStore interface{}

// privacyRoutes are the audit log and purge.
func (s *Server) privacyRoutes() []Route { return nil }
