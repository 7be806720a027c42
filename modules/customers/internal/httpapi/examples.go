package httpapi

import (
	"time"

	"github.com/modshop/modshop/modules/customers/api"
)

// Examples of requests and answers for the OpenAPI document: a Route's
// Request or Response that is not a zero value is shown as its example.

var (
	exampleCustomer = api.Customer{ID: "01JQ4CUSTOMER0000000000001", Email: "ann@example.com", Name: "Ann Lee", Role: api.RoleCustomer,
		CreatedAt: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)}
	exampleTokens = TokenPair{AccessToken: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMUpRNENVU1RPTUVSIn0.c2lnbmF0dXJl",
		RefreshToken: "rt_5f0c2b1e9a7d4c3b8e6f1a2d", TokenType: "Bearer", ExpiresIn: 900}
	exampleRegistered = RegisterResponse{Customer: exampleCustomer, TokenPair: exampleTokens}
	exampleRegister   = RegisterRequest{Email: "ann@example.com", Password: "a long password", Name: "Ann Lee"}
	exampleLogin      = LoginRequest{Email: "ann@example.com", Password: "a long password"}
	exampleRefresh    = RefreshRequest{RefreshToken: "rt_5f0c2b1e9a7d4c3b8e6f1a2d"}
	exampleName       = "Ann Lee-Smith"
	exampleProfile    = ProfilePatch{Name: &exampleName}
	exampleAddressReq = AddressRequest{Name: "Ann Lee", Line1: "Main St 1", City: "Berlin", PostalCode: "10115", Country: "DE", Phone: "+49 30 1234567"}
	exampleCity       = "Hamburg"
	exampleAddrPatch  = AddressPatch{City: &exampleCity}
)
