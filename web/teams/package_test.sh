#!/usr/bin/env bash
# scripts/teams-package: the package holds a manifest valid against
# Microsoft's schema with the tabs on the host given and single sign-on
# for the API app, and icons of the sizes Teams asks; wrong options and a
# manifest that breaks the schema are refused, naming what is wrong.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

client=6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f
"$root/scripts/teams-package" --host app.contoso.example --client-id $client \
  --tenant contoso --out "$work" >"$work/out" 2>&1 || { cat "$work/out"; fail "packaging failed"; }
python3 - "$work/switchboard-contoso.zip" "$client" <<'PY' || fail "the package's content"
import json, struct, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert sorted(z.namelist()) == ["color.png", "manifest.json", "outline.png"], z.namelist()
m = json.loads(z.read("manifest.json"))
assert m["validDomains"] == ["app.contoso.example"], m["validDomains"]
assert m["webApplicationInfo"] == {"id": sys.argv[2], "resource": "api://app.contoso.example/" + sys.argv[2]}
tabs = {t["entityId"]: t["contentUrl"] for t in m["staticTabs"]}
assert tabs["agent"].startswith("https://app.contoso.example/agent?tenant=contoso"), tabs
assert tabs["supervisor"].startswith("https://app.contoso.example/supervisor?tenant=contoso"), tabs
assert m["configurableTabs"][0]["configurationUrl"].startswith("https://app.contoso.example/configure"), m
assert "identity" in m["permissions"]
for name, size in (("color.png", 192), ("outline.png", 32)):
    data = z.read(name)
    assert data[:8] == b"\x89PNG\r\n\x1a\n", name
    w, h = struct.unpack(">II", data[16:24])
    assert (w, h) == (size, size), (name, w, h)
print("package ok: app id", m["id"])
PY
# The same host and tenant give the same app id (an upload updates the app).
first=$(python3 -c "import json,zipfile,sys; print(json.loads(zipfile.ZipFile(sys.argv[1]).read('manifest.json'))['id'])" "$work/switchboard-contoso.zip")
"$root/scripts/teams-package" --host app.contoso.example --client-id $client --tenant contoso --out "$work" >/dev/null
second=$(python3 -c "import json,zipfile,sys; print(json.loads(zipfile.ZipFile(sys.argv[1]).read('manifest.json'))['id'])" "$work/switchboard-contoso.zip")
[ "$first" = "$second" ] || fail "the app id changed between two packages: $first, $second"

expect_refused() {
  local what=$1; shift
  local status=0
  "$root/scripts/teams-package" "$@" --out "$work/bad" >"$work/out" 2>&1 || status=$?
  [ "$status" -eq 2 ] || { cat "$work/out"; fail "$what: exit $status, expected 2"; }
  grep -q -- "$what" "$work/out" || { cat "$work/out"; fail "the refusal does not name '$what'"; }
  [ ! -e "$work/bad/switchboard-contoso.zip" ] || fail "$what: a package was written"
}
expect_refused "--host" --host https://app.contoso.example/ --client-id $client --tenant contoso
expect_refused "--client-id" --host app.contoso.example --client-id not-a-guid --tenant contoso
expect_refused "--tenant" --host app.contoso.example --client-id $client --tenant "con toso"
sed 's/"accentColor"/"accentColour"/' "$root/web/teams/manifest.template.json" >"$work/broken.json"
expect_refused "breaks Microsoft's schema" --host app.contoso.example --client-id $client \
  --tenant contoso --template "$work/broken.json"
grep -q "accentColour" "$work/out" || { cat "$work/out"; fail "the schema error does not name the property"; }
echo "teams package: valid manifest, icons 192 and 32 px, stable app id, 4 wrong inputs refused"
