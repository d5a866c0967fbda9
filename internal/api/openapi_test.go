package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/breachnotice/breachnotice/internal/api"
)

// apiDoc loads and checks the served document once for the package's tests.
var apiDoc = sync.OnceValues(func() (*openapi3.T, error) {
	b, err := api.OpenAPIJSON()
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("load openapi.json: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.json is not a valid OpenAPI 3 document: %w", err)
	}
	// Pages and files: the validator checks their status and content type, not their bytes.
	for _, ct := range []string{"text/html", "text/csv", "text/xml"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
	return doc, nil
})

var apiRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := apiDoc()
	if err != nil {
		return nil, err
	}
	return gorillamux.NewRouter(doc)
})

func TestOpenAPI_DescribesEveryRouteAndOnlyThose(t *testing.T) {
	doc, err := apiDoc()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, rt := range (&api.Server{}).Routes() {
		key := rt.Method + " " + rt.Pattern
		served[key] = true
		item := doc.Paths.Find(rt.Pattern)
		if item == nil || item.GetOperation(rt.Method) == nil {
			t.Errorf("%s is served but not in openapi.yaml", key)
			continue
		}
		op := item.GetOperation(rt.Method)
		public := op.Security != nil && len(*op.Security) == 0
		if public != rt.Public {
			t.Errorf("%s: the document says public=%v, the server %v", key, public, rt.Public)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !served[method+" "+path] {
				t.Errorf("%s %s is in openapi.yaml but not served", method, path)
			}
		}
	}
}

func TestOpenAPI_IsServedAsJSON(t *testing.T) {
	c := newServer(t)
	resp, body := c.do("GET", "/api/v1/openapi.json", "", nil, "")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Paths.Find("/api/v1/campaigns/{id}/status") == nil {
		t.Error("the served document lacks the status route")
	}
}

// validated checks every answer the package's tests receive against the document: a status,
// content type or body the document does not describe fails the test that received it.
// Answers to paths the document does not know (deliberately wrong routes) are not checked.
type validated struct{ t *testing.T }

func (v validated) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	router, err := apiRouter()
	if err != nil {
		v.t.Errorf("openapi: %v", err)
		return resp, nil
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		v.t.Errorf("%s %s → %d does not match openapi.yaml: %v\nbody: %.300s", req.Method, route.Path, resp.StatusCode, err, body)
	}
	return resp, nil
}
