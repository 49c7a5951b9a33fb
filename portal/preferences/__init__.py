"""Display preferences a visitor sets without an account: 长辈版 (elder mode).

POST /preferences (CSRF-checked) stores the choice in a cookie and returns to the page the
visitor came from; the language switch needs no POST (?lang= links set the cookie).
"""
