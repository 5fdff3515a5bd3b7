package hubspot

// SetDailyCount puts n requests on today's daily counter, so tests reach the daily limit
// without making a quarter of a million requests.
func (s *Server) SetDailyCount(n int) {
	now := s.now()
	s.lim.mu.Lock()
	defer s.lim.mu.Unlock()
	s.lim.roll(now.UnixMilli())
	s.lim.dayCount = n
}
