"""Print the demo accounts, and what to try as each demo pensioner, from seed_demo's JSON (last line)."""

import json
import sys

with open(sys.argv[1], encoding="utf-8") as fh:
    data = json.loads(fh.read().strip().splitlines()[-1])
print(f"Demo city: {data['pensioners']} pensioners. Demo accounts (demo only):")
for a in data["accounts"]:
    if a["role"] == "pensioner":
        continue
    password = a["password"] or "(SMS code: printed in this console)"
    print(f"  {a['role']:10} {a['username']:20} {password:38} {a['street_office'] or ''}")
    if a.get("note"):
        print(f"  {'':10} 试一试：{a['note']}")
print("Demo pensioners (sign in at /login/pensioner/ with the ID number; the SMS code prints in this console):")
for a in data["accounts"]:
    if a["role"] == "pensioner":
        print(f"  {a['username']}  {a.get('name', ''):4} [{a.get('status', '')}]")
        print(f"      试一试：{a.get('note', '')}")
for feed in data.get("feeds", []):
    print(f"  feed {feed['source']:18} rows={feed['rows']} accepted={feed['accepted']} "
          f"duplicates={feed.get('duplicates', 0)} rejected={feed['rejected']}")
for note in data.get("notes", []):
    print(f"  * {note}")
