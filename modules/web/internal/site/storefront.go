package site

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// storefrontPages are the shop's browsing pages: home, categories,
// search and products.
func (s *Site) storefrontPages() []Page {
	return []Page{
		{Method: http.MethodGet, Path: "/", Handle: s.home},
	}
}

type homePage struct {
	Categories any
}

func (s *Site) home(_ echo.Context, v *Visit) error {
	cats, err := s.d.Catalog.Categories(v.Ctx())
	if err != nil {
		return err
	}
	return v.Render(http.StatusOK, "home", "Home", homePage{Categories: cats})
}
