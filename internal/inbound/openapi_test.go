package inbound_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestOpenAPIDocument(t *testing.T) {
	f := setup(t)
	for _, path := range []string{"/api/v1/contrib/webhook_notifications/openapi.json", "/api/v1/contrib/webhook_notifications/openapi"} {
		t.Run(path, func(t *testing.T) {
			resp, err := f.server.Client().Get(f.server.URL + path)
			must(t, err)
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status code = %d, want 200", resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			var doc map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
				t.Fatalf("document is not JSON: %v", err)
			}
			checkOpenAPI(t, doc)
		})
	}
}

// checkOpenAPI checks the version, the routes, the security schemes and
// that every local $ref resolves.
func checkOpenAPI(t *testing.T, doc map[string]any) {
	t.Helper()
	if version, _ := doc["openapi"].(string); !strings.HasPrefix(version, "3.") {
		t.Errorf("openapi = %q, want 3.x", version)
	}
	paths, _ := doc["paths"].(map[string]any)
	wantOperations := map[string]string{
		"/contrib/webhook_notifications/message/{message_id}/status":  "post",
		"/contrib/webhook_notifications/message/{message_id}/content": "post",
		"/oauth/token": "post",
		"/contrib/webhook_notifications/oauth/token":  "post",
		"/contrib/webhook_notifications/openapi.json": "get",
	}
	for path, method := range wantOperations {
		item, _ := paths[path].(map[string]any)
		operation, _ := item[method].(map[string]any)
		if operation == nil {
			t.Errorf("paths[%q].%s is missing", path, method)
			continue
		}
		if responses, _ := operation["responses"].(map[string]any); len(responses) == 0 {
			t.Errorf("paths[%q].%s has no responses", path, method)
		}
	}
	components, _ := doc["components"].(map[string]any)
	schemes, _ := components["securitySchemes"].(map[string]any)
	for _, name := range []string{"bearerToken", "kohaApiKey", "kohaStaff", "clientSecretBasic"} {
		if schemes[name] == nil {
			t.Errorf("securitySchemes.%s is missing", name)
		}
	}
	for _, ref := range collectRefs(doc) {
		if resolve(doc, ref) == nil {
			t.Errorf("$ref %q does not resolve", ref)
		}
	}
}

func collectRefs(node any) []string {
	var refs []string
	switch v := node.(type) {
	case map[string]any:
		for key, child := range v {
			if ref, ok := child.(string); ok && key == "$ref" {
				refs = append(refs, ref)
				continue
			}
			refs = append(refs, collectRefs(child)...)
		}
	case []any:
		for _, child := range v {
			refs = append(refs, collectRefs(child)...)
		}
	}
	return refs
}

// resolve returns the node a local "#/a/b" reference points to, or nil.
func resolve(doc map[string]any, ref string) any {
	if !strings.HasPrefix(ref, "#/") {
		return nil
	}
	var node any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		object, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = object[part]
	}
	return node
}
