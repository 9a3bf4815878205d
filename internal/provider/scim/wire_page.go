package scim

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// maxCursorBytes bounds a nextCursor: it travels back in the next request's URL, and real cursors
// are a few hundred bytes at most.
const maxCursorBytes = 4096

// pageResponse is one page of a listing: a ListResponse with its paging attributes. Resources are
// read as strictly as for a lookup (every resource a user with an id); the numbers are read
// loosely, because servers send them as strings or leave them out, and the listing never relies
// on itemsPerPage anyway.
type pageResponse struct {
	listResponse
	totalResults    int
	hasTotalResults bool
	startIndex      int
	itemsPerPage    int
	nextCursor      string
}

var _ json.Unmarshaler = (*pageResponse)(nil)

// UnmarshalJSON reads the page. Only a nextCursor that cannot be sent back fails it, besides what
// fails a lookup's answer: a page whose next cursor is lost cannot be followed.
func (p *pageResponse) UnmarshalJSON(data []byte) error {
	attrs, err := parseObject(data)
	if err != nil {
		return err
	}
	*p = pageResponse{}
	if err := p.readResources(attrs); err != nil {
		return err
	}
	p.totalResults, p.hasTotalResults = count(attrs.member("totalResults"))
	p.startIndex, _ = count(attrs.member("startIndex"))
	p.itemsPerPage, _ = count(attrs.member("itemsPerPage"))
	p.nextCursor, err = cursorValue(attrs.member("nextCursor"))
	return err
}

// count reads a non-negative integer sent as a JSON number or as a string holding one ("100",
// 100, 1e2, 100.0); anything else, a negative, fractional or absurdly large number among them,
// is no value.
func count(raw json.RawMessage) (int, bool) {
	text := strings.TrimSpace(string(raw))
	if s, ok := asString(raw); ok {
		text = strings.TrimSpace(s)
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f < 0 || f > math.MaxInt32 || f != math.Trunc(f) {
		return 0, false
	}
	return int(f), true
}

// cursorValue reads nextCursor: a string, or a number some servers send, as its text; absent,
// null or "" means the last page.
func cursorValue(raw json.RawMessage) (string, error) {
	if raw == nil {
		return "", nil
	}
	var cursor string
	switch first := firstByte(raw); {
	case first == '"':
		cursor, _ = asString(raw)
	case first == '-' || '0' <= first && first <= '9':
		cursor = strings.TrimSpace(string(raw))
	default:
		return "", fmt.Errorf("nextCursor is %s, not a string", kindOf(raw))
	}
	if len(cursor) > maxCursorBytes {
		return "", fmt.Errorf("nextCursor has %d bytes, more than %d", len(cursor), maxCursorBytes)
	}
	return cursor, nil
}
