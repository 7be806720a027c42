package site

// adminPages are the back office, for the admin role only.
func (s *Site) adminPages() []Page { return s.adminCatalogPages() }
