package httpapi

// Examples of requests for the OpenAPI document: a Route's Request that is
// not a zero value is shown as its example.

var exampleAdjustment = AdjustmentRequest{Delta: 24, Reason: "delivery from the supplier"}
