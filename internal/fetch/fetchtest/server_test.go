package fetchtest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"campaignd/internal/fetch/fetchtest"
)

// The token endpoint answers a refresh-token grant as LWA does, and
// invalid_grant once the refresh token is refused.
func TestTokenEndpoint(t *testing.T) {
	s := fetchtest.New(t, time.Now())
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"Atzr|r"}, "client_id": {"c"}, "client_secret": {"s"}}
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
	}
	post := func() int {
		resp, err := http.PostForm(s.TokenURL(), form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		tr.AccessToken, tr.Error = "", ""
		json.NewDecoder(resp.Body).Decode(&tr)
		return resp.StatusCode
	}
	if code := post(); code != 200 || !strings.HasPrefix(tr.AccessToken, "Atza|") || tr.ExpiresIn != 3600 {
		t.Errorf("grant: %d %+v", code, tr)
	}
	s.RefuseRefreshToken()
	if code := post(); code != 400 || tr.Error != "invalid_grant" {
		t.Errorf("refused grant: %d %+v", code, tr)
	}
	if s.Count("token") != 2 {
		t.Errorf("Count(token) = %d", s.Count("token"))
	}
}

// createReport refuses what Amazon refuses: no token, an unknown field, a
// range that ends in the future.
func TestCreateReportChecks(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	s := fetchtest.New(t, now)
	post := func(token, body string) int {
		req, _ := http.NewRequest(http.MethodPost, s.API.URL+"/reports/2021-06-30/reports", strings.NewReader(body))
		req.Header.Set("x-amz-access-token", token)
		req.Header.Set("user-agent", "t/1 (Language=Go; Platform=Linux)")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ok := `{"reportType":"X","marketplaceIds":["ATVPDKIKX0DER"],"dataStartTime":"2026-11-19T00:00:00Z","dataEndTime":"2026-11-20T11:00:00Z"}`
	tests := []struct {
		token, body string
		want        int
	}{
		{"Atza|1", ok, 202},
		{"", ok, 403},
		{"Atza|1", strings.Replace(ok, `"reportType"`, `"reportTypo"`, 1), 400},
		{"Atza|1", strings.Replace(ok, "2026-11-20T11:00:00Z", "2026-11-20T13:00:00Z", 1), 400},
		{"Atza|1", strings.Replace(ok, `["ATVPDKIKX0DER"]`, `[]`, 1), 400},
	}
	for _, tt := range tests {
		if got := post(tt.token, tt.body); got != tt.want {
			t.Errorf("token %q body %s: %d, want %d", tt.token, tt.body, got, tt.want)
		}
	}
	if n := len(s.Creates()); n != 1 {
		t.Errorf("%d reports created, want 1", n)
	}
}
