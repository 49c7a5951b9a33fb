"""What a scripted citizen reads off the portal's pages and types into them: shared by the
locust scenario and the benches that walk the same visit without locust's environment."""

from __future__ import annotations

import re

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')
LICENSE = re.compile(r'name="m\.(\w+)\.license"[^>]*>\s*<option value="([^"]+)"')
# The newborn one-thing's sections, filled as a parent would.
TYPED = {
    "f.child_name": "张小宝",
    "f.child_ethnicity": "汉族",
    "f.relation_to_head": "child",
    "f.delivery_method": "pickup",
    "f.applicant_role": "mother",
}
