package api

// TrackingStore is what live tracking and the proof-of-notice export need: statistics by
// channel × state × locale, one recipient's timeline, delivery listings, suppressions.
type TrackingStore interface{}

// trackingRoutes are the status API's read side.
func (s *Server) trackingRoutes() []Route { return nil }
