// Package scim reads organization users from any SCIM 2.0 service (RFC 7643, RFC 7644): GitHub
// Enterprise, Slack, Zoom, Atlassian, Entra and the like. A key is looked up by its configured
// attribute: GET {baseURL}/Users/{key} for id, GET {baseURL}/Users?filter=<attr> eq "<key>" for
// userName and externalId.
//
// Real servers bend the RFCs in ways this package absorbs rather than fails on:
//   - Filters: the key is written as a JSON string and the whole filter strictly percent-encoded,
//     so a "+" in an address is not read as a space. The answer is re-checked, because servers
//     compare userName case-sensitively, match externalId ignoring case, or ignore a filter they
//     cannot parse and answer a page of all users: only a userName equal ignoring case, or an
//     externalId equal exactly, counts; none is NotFound, two or more AmbiguousKey. A missing or
//     null Resources is no match.
//   - Attribute names are case-insensitive at every level (RFC 7643 §2.1): members are matched
//     lower-cased, and of two names differing only in case the later wins.
//   - active arrives as a boolean or, from Entra, as "True"/"False"; absent or null is Active; any
//     other value is Unknown rather than guessed.
//   - roles, emails, groups and entitlements arrive as arrays of objects, arrays of bare strings,
//     or one bare string; a value of one is its value and display sub-attributes. A role value
//     holding several roles joined ("admin,user") is one value: only a map entry spelling it all
//     matches it, so no separator is guessed.
//   - meta may be missing; a time without an offset is UTC; an unreadable time is absent.
//   - Error bodies carry status as a string or a number and are sometimes wrapped
//     ({"error": {...}}, {"Errors": [...]}); detail and scimType make the message, the HTTP status
//     the kind, except that a 400 invalidFilter or invalidSyntax is InvalidConfig.
//   - Media type: both application/scim+json and application/json are read; Content-Type is not
//     trusted.
//
// Every user must carry a string id, the identity lookups count users by; an answer with a
// resource without one is refused as undecodable rather than partly trusted.
//
// The client is also a provider.Lister, for OrgDirectory: ListPage reads one page of GET
// {baseURL}/Users (filter, count, and startIndex or RFC 9865's cursor, sortBy=id when asked) and
// ListCapabilities reads /ServiceProviderConfig once for sort.supported and pagination.cursor.
// A page's numbers arrive as numbers or strings or not at all and are read loosely; only a page
// whose users or next cursor cannot be trusted fails. provider.Listing decides what to ask next.
package scim
