# The two commands for a fresh machine: `make demo` and `make test` (see README).
PY := .venv/bin/python
PYTEST_ARGS ?=
DEMO_PENSIONERS ?= 3000
PORT ?= 8000

.PHONY: install demo test lint check-deploy migrate serve clean

.venv/.installed: pyproject.toml scripts/install.sh
	bash scripts/install.sh
	touch $@

install: .venv/.installed

migrate: install
	$(PY) manage.py migrate --noinput

# Embedded defaults: SQLite under var/, eager Celery, console SMS (sign-in codes print here).
# umask 077: the SQLite file and the demo accounts file hold personal data (owner-only, DESIGN §7).
demo: install
	umask 077 && env -u DATABASE_URL -u REDIS_URL $(PY) manage.py migrate --noinput
	chmod 600 var/portal.sqlite3
	umask 077 && env -u DATABASE_URL -u REDIS_URL $(PY) manage.py seed_demo --pensioners $(DEMO_PENSIONERS) --seed 1 > var/demo_accounts.json
	chmod 600 var/demo_accounts.json
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py run_nightly | tail -n 1
	@$(PY) scripts/print_accounts.py var/demo_accounts.json
	@echo "(also in var/demo_accounts.json)"
	@echo "Serving on http://127.0.0.1:$(PORT)/  (another port: make demo PORT=8080)"
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py runserver 127.0.0.1:$(PORT)

# The whole suite. With DATABASE_URL/REDIS_URL set it runs on PostgreSQL/Redis;
# REQUIRE_SERVICES=1 makes service tests fail instead of skip (what .ci/run does).
test: install
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: install
	.venv/bin/ruff check .
	.venv/bin/lint-imports

# manage.py check --deploy with production settings and throwaway but real-shaped values
# (a random key, the HTTP SMS gateway). It must FAIL with a placeholder key or an unknown
# transport (tests/security/test_fail_closed.py overrides CHECK_SECRET_KEY / CHECK_SMS_TRANSPORT).
CHECK_SECRET_KEY ?= $$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')
CHECK_SMS_TRANSPORT ?= http
check-deploy: install
	DJANGO_SETTINGS_MODULE=config.settings.production \
	DJANGO_SECRET_KEY=$(CHECK_SECRET_KEY) \
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \
	DJANGO_ALLOWED_HOSTS=portal.example.gov.cn SMS_TRANSPORT=$(CHECK_SMS_TRANSPORT) \
	SMS_GATEWAY_URL=https://sms-gateway.example.gov.cn/send \
	SMS_GATEWAY_API_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))') \
	$(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf var/portal.sqlite3 var/demo_accounts.json var/demo_feeds

# Issue 4: the docker-compose process set without Docker (gunicorn, worker default, worker face,
# beat) on this machine's PostgreSQL/Redis with production settings. Stop: make prod-local-stop.
.PHONY: prod-local prod-local-stop
prod-local: install
	scripts/prod_local.sh start

prod-local-stop:
	scripts/prod_local.sh stop
