package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/modshop/modshop/cmd/modshop/internal/apiclient"
)

// frontDoer sends the generated client's requests the way front does: to
// the shop's base URLs in turn.
type frontDoer struct{ f front }

func (d frontDoer) Do(req *http.Request) (*http.Response, error) {
	base, err := url.Parse(d.f.bases.pick())
	if err != nil {
		return nil, err
	}
	req.URL.Scheme, req.URL.Host = base.Scheme, base.Host
	req.Host = ""
	resp, err := e2eClient.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	d.f.checkContract(req, resp, body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// generatedClient is the client oapi-codegen made from docs/openapi.json,
// talking to the shop under test.
func (f front) generatedClient() *apiclient.ClientWithResponses {
	f.t.Helper()
	c, err := apiclient.NewClientWithResponses("http://modshop.invalid", apiclient.WithHTTPClient(frontDoer{f}))
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// clientPurchase is a guest's whole purchase through the generated client:
// search, product, cart, checkout, order, read back with the guest token,
// cancel. It buys one unit of sku (on hand: stock) and gives it back.
func clientPurchase(t *testing.T, f front, word, productID, sku string, run string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := f.generatedClient()
	status := func(what string, got, want int, body []byte) {
		t.Helper()
		if got != want {
			t.Fatalf("client %s: %d, want %d: %s", what, got, want, body)
		}
	}

	q := word
	found, err := c.GetSearchWithResponse(ctx, &apiclient.GetSearchParams{Q: &q})
	if err != nil {
		t.Fatal(err)
	}
	status("search", found.StatusCode(), 200, found.Body)
	if found.JSON200.Items == nil || len(*found.JSON200.Items) == 0 || (*found.JSON200.Items)[0].ProductId != productID {
		t.Fatalf("client search for %q: %s", q, found.Body)
	}
	hit := (*found.JSON200.Items)[0]

	product, err := c.GetProductsIdOrSlugWithResponse(ctx, hit.Slug)
	if err != nil {
		t.Fatal(err)
	}
	status("product", product.StatusCode(), 200, product.Body)
	if product.JSON200.Variants == nil || len(*product.JSON200.Variants) != 1 || (*product.JSON200.Variants)[0].Sku != sku {
		t.Fatalf("client product: %+v", product.JSON200)
	}

	cart, err := c.PostCartsWithResponse(ctx)
	if err != nil {
		t.Fatal(err)
	}
	status("new cart", cart.StatusCode(), 201, cart.Body)
	one := 1
	added, err := c.PostCartsIdItemsWithResponse(ctx, cart.JSON201.Id, apiclient.AddItemRequest{Sku: sku, Quantity: &one})
	if err != nil {
		t.Fatal(err)
	}
	status("add item", added.StatusCode(), 201, added.Body)
	if added.JSON201.ItemCount != 1 || added.JSON201.Subtotal.Amount != 6000 {
		t.Fatalf("client cart: %+v", added.JSON201)
	}

	checkout, err := c.PostCartsIdCheckoutWithResponse(ctx, cart.JSON201.Id, apiclient.CheckoutRequest{
		Email: "client-" + run + "@example.com",
		ShippingAddress: &apiclient.ShippingAddress{Name: "Client Buyer", Line1: "Main St 1", City: "Berlin",
			PostalCode: "10115", Country: "DE"},
	})
	if err != nil {
		t.Fatal(err)
	}
	status("checkout", checkout.StatusCode(), 201, checkout.Body)
	if checkout.JSON201.Total.Amount != 6500 { // 6000 and 500 shipping
		t.Fatalf("client checkout: %+v", checkout.JSON201)
	}

	order, err := c.PostOrdersWithResponse(ctx, &apiclient.PostOrdersParams{IdempotencyKey: "client-" + run},
		apiclient.OrderRequest{CheckoutId: checkout.JSON201.Id, PaymentMethod: "pm_card_visa"})
	if err != nil {
		t.Fatal(err)
	}
	status("order", order.StatusCode(), 201, order.Body)
	if order.JSON201.Status != "placed" || order.JSON201.Payment.Status != "authorized" || order.JSON201.GuestToken == nil {
		t.Fatalf("client order: %+v", order.JSON201)
	}

	read, err := c.GetOrdersIdWithResponse(ctx, order.JSON201.Id, &apiclient.GetOrdersIdParams{Token: order.JSON201.GuestToken})
	if err != nil {
		t.Fatal(err)
	}
	status("read order", read.StatusCode(), 200, read.Body)
	if read.JSON200.Number != order.JSON201.Number {
		t.Fatalf("client read back %+v, placed %+v", read.JSON200, order.JSON201)
	}

	cancelled, err := c.PostOrdersIdCancelWithResponse(ctx, order.JSON201.Id, &apiclient.PostOrdersIdCancelParams{Token: order.JSON201.GuestToken})
	if err != nil {
		t.Fatal(err)
	}
	status("cancel", cancelled.StatusCode(), 200, cancelled.Body)
	if cancelled.JSON200.Status != "cancelled" || cancelled.JSON200.Payment.Status != "voided" {
		t.Fatalf("client cancel: %+v", cancelled.JSON200)
	}

	// A declared error comes back typed as the document's Problem.
	again, err := c.PostOrdersIdCancelWithResponse(ctx, order.JSON201.Id, &apiclient.PostOrdersIdCancelParams{Token: order.JSON201.GuestToken})
	if err != nil {
		t.Fatal(err)
	}
	if again.StatusCode() != 409 || again.ApplicationproblemJSON409 == nil || again.ApplicationproblemJSON409.Code != "invalid_state" {
		t.Fatalf("client cancel again: %d %s", again.StatusCode(), again.Body)
	}
}
