package site

// accountPages are register, sign-in, sign-out and the account.
func (s *Site) accountPages() []Page { return nil }
