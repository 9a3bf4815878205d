package scim

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/orgsync/orgsync/internal/provider"
)

var _ provider.Lister = (*Client)(nil)

// ListPage reads one page of users: GET {baseURL}/Users with the request's filter (passed on as
// written, and strictly query-escaped like a lookup's), count, startIndex or RFC 9865's cursor,
// and sortBy=id when asked. Every user carries its id and its keyAttribute value as Key. Errors
// are *provider.Error with Op provider.OpListUsers.
func (c *Client) ListPage(ctx context.Context, req provider.PageRequest) (provider.Page, error) {
	var answer pageResponse
	if err := c.lister.GetJSONWithQuery(ctx, &answer, pageQuery(req), "Users"); err != nil {
		return provider.Page{}, err
	}
	page := provider.Page{
		Users:           make([]provider.User, 0, len(answer.resources)),
		TotalResults:    answer.totalResults,
		HasTotalResults: answer.hasTotalResults,
		StartIndex:      answer.startIndex,
		ItemsPerPage:    answer.itemsPerPage,
		NextCursor:      answer.nextCursor,
	}
	for _, resource := range answer.resources {
		page.Users = append(page.Users, c.listedUser(resource))
	}
	return page, nil
}

// pageQuery is the query of one page. A cursor is sent even when empty: "cursor=" is how RFC 9865
// asks for the first page.
func pageQuery(req provider.PageRequest) url.Values {
	query := url.Values{}
	if req.Filter != "" {
		query.Set("filter", req.Filter)
	}
	if req.Count > 0 {
		query.Set("count", strconv.Itoa(req.Count))
	}
	if req.CursorPaging {
		query.Set("cursor", req.Cursor)
	} else {
		query.Set("startIndex", strconv.Itoa(max(req.StartIndex, 1)))
	}
	if req.SortByID {
		query.Set("sortBy", KeyID)
	}
	return query
}

// listedUser maps a listed resource like a looked-up one, with its key: the value of the key
// attribute, which names its OrgUser. A user without one gets "", which no key can be.
func (c *Client) listedUser(resource userResource) provider.User {
	user := toUser(resource, c.roles).Bounded()
	if c.keyAttribute == KeyID {
		user.Key = resource.id
	} else {
		user.Key, _ = resource.attrs.str(c.keyAttribute)
	}
	return user
}

// classifyListStatus makes a listing's 400 invalidFilter or invalidSyntax an InvalidConfig error:
// the server refuses the listing's filter (or its paging), and no retry changes that. RFC 9865's
// invalidCursor and expiredCursor stay transient: the listing can start again.
func (c *Client) classifyListStatus(status int, body []byte) (provider.ErrorKind, string, bool) {
	if status != http.StatusBadRequest {
		return "", "", false
	}
	e := parseError(body)
	switch {
	case strings.EqualFold(e.scimType, "invalidFilter"):
		return provider.KindInvalidConfig, "the server refused the listing's filter: " + e.message(), true
	case strings.EqualFold(e.scimType, "invalidSyntax"):
		return provider.KindInvalidConfig, "the server refused the listing request: " + e.message(), true
	default:
		return "", "", false
	}
}
