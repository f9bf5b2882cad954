"""Print the demo accounts from seed_demo's JSON (last line of the file given)."""

import json
import sys

with open(sys.argv[1], encoding="utf-8") as fh:
    data = json.loads(fh.read().strip().splitlines()[-1])
print(f"Demo city: {data['pensioners']} pensioners. Demo accounts (demo only):")
for a in data["accounts"]:
    password = a["password"] or "(SMS code: printed in this console)"
    print(f"  {a['role']:10} {a['username']:20} {password:38} {a['street_office'] or ''}")
for feed in data.get("feeds", []):
    print(f"  feed {feed['source']:12} rows={feed['rows']} accepted={feed['accepted']} rejected={feed['rejected']}")
