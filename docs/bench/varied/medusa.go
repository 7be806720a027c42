package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"time"
)

// medusaFields are the fields a storefront asks for with a product: prices
// in the region and stock, as modshop's product pages, lists and search
// hits carry each variant's price and availability. (Medusa's Next.js
// starter asks for these and a few more.)
const medusaFields = "*variants.calculated_price,+variants.inventory_quantity"

// medusaTarget is the running Medusa at -medusa with the store
// docs/bench/sidebyside/seed.ts made (-medusa-seed), and its catalog read
// back through the store API.
func medusaTarget() (*target, *catalog, error) {
	var seed struct {
		PublishableKey   string `json:"publishable_key"`
		RegionID         string `json:"region_id"`
		ShippingOptionID string `json:"shipping_option_id"`
	}
	b, err := os.ReadFile(opts.medusaSeed)
	if err != nil {
		return nil, nil, fmt.Errorf("-medusa needs -medusa-seed: %w", err)
	}
	if err := json.Unmarshal(b, &seed); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", opts.medusaSeed, err)
	}
	h := map[string]string{"x-publishable-api-key": seed.PublishableKey}
	t := &target{shop: "medusa", base: opts.medusa, health: "/health", header: h, pid: opts.pid, c: newClient(),
		region: seed.RegionID, shippingOption: seed.ShippingOptionID}
	if t.pid == 0 {
		fmt.Println("no -pid: Medusa's memory and CPU are not sampled")
	}
	if err := t.get("/health"); err != nil {
		return nil, nil, fmt.Errorf("medusa at %s: %w", t.base, err)
	}
	start := time.Now()
	cat, err := t.medusaCatalog()
	if err != nil {
		return nil, nil, err
	}
	fmt.Printf("read Medusa's catalog in %s\n", time.Since(start).Round(time.Millisecond))
	return t, cat, nil
}

// medusaCatalog walks /store/products to the end: product ids, title words
// and variant ids (purchases pick from -purchase-skus of them; seed.ts gave
// each plenty of stock). List pages are the first 25 pages of 20 in each of
// four orders (the seed has no categories).
func (t *target) medusaCatalog() (*catalog, error) {
	q := "&region_id=" + url.QueryEscape(t.region) + "&fields=" + url.QueryEscape(medusaFields)
	cat := &catalog{search: func(s string) string { return "/store/products?limit=20" + q + "&q=" + url.QueryEscape(s) }}
	words := map[string]bool{}
	var variants []string
	for offset := 0; ; {
		var p struct {
			Products []struct {
				ID, Title string
				Variants  []struct{ ID string }
			}
			Count int
		}
		if err := t.getJSON("/store/products?limit=100&offset="+strconv.Itoa(offset)+"&fields=id,title,variants.id", &p); err != nil {
			return nil, err
		}
		for _, it := range p.Products {
			cat.products = append(cat.products, "/store/products/"+it.ID+"?"+q[1:])
			addWords(words, it.Title)
			for _, v := range it.Variants {
				variants = append(variants, v.ID)
			}
		}
		offset += len(p.Products)
		if len(p.Products) == 0 || offset >= p.Count {
			break
		}
	}
	for w := range words {
		cat.words = append(cat.words, w)
	}
	slices.Sort(cat.words)
	rand.Shuffle(len(variants), func(i, j int) { variants[i], variants[j] = variants[j], variants[i] })
	cat.skus = variants[:min(len(variants), opts.purchaseSKUs)]
	for _, order := range []string{"created_at", "-created_at", "title", "-title"} {
		for page := range 25 {
			if page*20 >= len(cat.products) {
				break
			}
			cat.cursors = append(cat.cursors, fmt.Sprintf("/store/products?limit=20&offset=%d&order=%s%s", page*20, order, q))
		}
	}
	if len(cat.products) == 0 || len(cat.words) == 0 {
		return nil, errors.New("medusa: the catalog is empty")
	}
	return cat, nil
}

func (t *target) getJSON(path string, v any) error {
	req, err := newGet(t.base+path, t.header)
	if err != nil {
		return err
	}
	resp, err := t.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// medusaPurchase is a guest purchase through Medusa's store API, the calls
// a storefront makes: create a cart in the region (its sales channel comes
// from the publishable key), add the variant, set e-mail and shipping
// address, choose the shipping option, create the cart's payment collection
// and a payment session with the system provider, and complete the cart,
// which authorizes the payment and places the order.
func (t *target) medusaPurchase(variant string, st *steps) error {
	var mine []time.Duration
	var cart struct {
		Cart struct{ ID string } `json:"cart"`
	}
	var pc struct {
		PaymentCollection struct{ ID string } `json:"payment_collection"`
	}
	var done struct {
		Type  string `json:"type"`
		Error any    `json:"error"`
	}
	n := t.purchases.Add(1)
	err := st.run(&mine, "cart", func() error {
		return t.post("/store/carts", map[string]any{"region_id": t.region}, &cart)
	})
	if err == nil {
		err = st.run(&mine, "line item", func() error {
			return t.post("/store/carts/"+cart.Cart.ID+"/line-items", map[string]any{"variant_id": variant, "quantity": 1}, nil)
		})
	}
	if err == nil {
		err = st.run(&mine, "address", func() error {
			return t.post("/store/carts/"+cart.Cart.ID, map[string]any{
				"email": "buyer@example.com",
				"shipping_address": map[string]any{"first_name": "Ann", "last_name": "Lee", "address_1": "Main St 1",
					"city": "Berlin", "postal_code": "10115", "country_code": "de"},
			}, nil)
		})
	}
	if err == nil {
		err = st.run(&mine, "shipping method", func() error {
			return t.post("/store/carts/"+cart.Cart.ID+"/shipping-methods", map[string]any{"option_id": t.shippingOption}, nil)
		})
	}
	if err == nil {
		err = st.run(&mine, "payment collection", func() error {
			return t.post("/store/payment-collections", map[string]any{"cart_id": cart.Cart.ID}, &pc)
		})
	}
	if err == nil {
		err = st.run(&mine, "payment session", func() error {
			return t.post("/store/payment-collections/"+pc.PaymentCollection.ID+"/payment-sessions",
				map[string]any{"provider_id": "pp_system_default"}, nil)
		})
	}
	if err == nil {
		err = st.run(&mine, "complete", func() error {
			if err := t.post("/store/carts/"+cart.Cart.ID+"/complete", nil, &done, "Idempotency-Key", fmt.Sprintf("varied-%d-%s", n, cart.Cart.ID)); err != nil {
				return err
			}
			if done.Type != "order" {
				return fmt.Errorf("completed as %q, not an order: %v", done.Type, done.Error)
			}
			return nil
		})
	}
	if err != nil {
		return err
	}
	st.done([]string{"cart", "line item", "address", "shipping method", "payment collection", "payment session", "complete"}, mine)
	return nil
}
