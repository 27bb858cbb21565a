"""Multiple consumer secrets per key: rules, services, expiry, reminders, selectors, pages and API.

A key in multiple-secret mode holds several secrets at once (rotation without downtime); this
package is everything about them. The single secret of a key in single-secret mode (shown masked,
regenerated) stays with the key itself in ``keys.services``.
"""
