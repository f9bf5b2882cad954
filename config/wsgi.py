import os

from django.core.wsgi import get_wsgi_application

# Fail closed (DESIGN §7): an app server started without DJANGO_SETTINGS_MODULE gets the
# production settings, which refuse to start without their secrets, never the debug ones.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
