package site

// cartPages are the cart, checkout and order pages.
func (s *Site) cartPages() []Page { return nil }

// cartCount is the number of items in the visitor's cart, shown in the
// header (0 when it has none or the cart cannot be read: the header is no
// reason to fail a page).
func (s *Site) cartCount(v *Visit) int64 { return 0 }
