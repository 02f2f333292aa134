package metaport

import (
	"fmt"
	"strings"

	"github.com/windsock/windsock/internal/windsock"
)

// revisions maps each alembic revision Airflow 1.10.0 to 2.10 shipped to
// the release that introduced it (from Airflow's migrations reference). A
// database's alembic_version names the last migration applied, so its
// release is the one of that revision; a database stopped between two
// migrations of a release is still recognised.
var revisions = map[string]string{
	// 1.10
	"9635ae0956e7": "1.10.0", "856955da8476": "1.10.0", "f23433877c24": "1.10.0", "05f30312d566": "1.10.0",
	"86770d1215c0": "1.10.0", "27c6a30d7c24": "1.10.0", "33ae817a1ff4": "1.10.0", "0e2a74e0fc9f": "1.10.0",
	"41f5f12752f8": "1.10.2", "03bc53e68815": "1.10.2", "0a2a5b66e19d": "1.10.2", "bf00311e1990": "1.10.2", "dd25f486b8ea": "1.10.2",
	"a56c9515abdc": "1.10.3", "939bb1e647c8": "1.10.3", "dd4ecb8fbee3": "1.10.3", "c8ffec048a3b": "1.10.3",
	"004c1210f153": "1.10.4", "6e96a59344a4": "1.10.4", "74effc47d867": "1.10.5",
	"08364691d074": "1.10.7", "b3b105409875": "1.10.7", "d38e04c12aa2": "1.10.7", "fe461863935f": "1.10.7",
	"7939bcff74ba": "1.10.8", "952da73b5eff": "1.10.10", "852ae6c715af": "1.10.10", "a4c2fd67d16b": "1.10.10",
	"a66efa278eea": "1.10.11", "da3f683c3a5a": "1.10.12", "03afc6b6f902": "1.10.13", "92c57b58940d": "1.10.13",
	// 2.0
	"cf5dc11e79ad": "2.0.0", "bbf4a7ad0465": "2.0.0", "b25a55525161": "2.0.0", "3c20cacc0044": "2.0.0",
	"8f966b9c467a": "2.0.0", "8d48763f6d53": "2.0.0", "e38be357a868": "2.0.0", "b247b1e3d1ed": "2.0.0",
	"e1a11ece99cc": "2.0.0", "bef4f3d11e8b": "2.0.0", "98271e7606e2": "2.0.0", "52d53670a240": "2.0.0",
	"364159666cbd": "2.0.0", "45ba3f1493b9": "2.0.0", "849da589634d": "2.0.0", "2c6edca13270": "2.0.0",
	"61ec73d9401f": "2.0.0", "64a7d6477aae": "2.0.0", "e959f08ac86c": "2.0.0", "82b7c48c147f": "2.0.1",
	"449b4072c2da": "2.0.2", "8646922c8a04": "2.0.2", "2e42bb497a22": "2.0.2",
	// 2.1
	"90d1635d7b86": "2.1.0", "e165e7455d70": "2.1.0", "a13f7613ad25": "2.1.0", "97cdd93827b8": "2.1.3",
	"092435bf5d12": "2.1.4", "ccde3e26fe78": "2.1.4",
	// 2.2
	"83f031fd9f1c": "2.2.0", "e9304a3141f0": "2.2.0", "30867afad44a": "2.2.0", "54bebd308c5f": "2.2.0",
	"142555e44c17": "2.2.0", "7b2661a43ba3": "2.2.0", "be2bfac3da23": "2.2.3", "c381b21cb7e4": "2.2.4", "587bdf053233": "2.2.4",
	// 2.3
	"5e3ec427fdd3": "2.3.0", "786e3737b18f": "2.3.0", "f9da662e7089": "2.3.0", "e655c0453f75": "2.3.0",
	"a3bcd0914482": "2.3.0", "c306b5b5ae4a": "2.3.0", "c97c2ab6aa23": "2.3.0", "4eaab2fe6582": "2.3.0",
	"48925b2719cb": "2.3.0", "909884dea523": "2.3.0", "75d5ed6c2b43": "2.3.0", "b1b348e02d07": "2.3.0",
	"1de7bc13c950": "2.3.1", "3c94c427fdf6": "2.3.2", "f5fcbda3e651": "2.3.3",
	// 2.4 - 2.6
	"424117c37d18": "2.4.0", "44b7034f6bdc": "2.4.0", "0038cd0c28b4": "2.4.0", "f4ff391becb5": "2.4.0",
	"1486deb605b4": "2.4.0", "ecb43d2a1842": "2.4.0", "b0d31815b5a6": "2.4.2", "e07f49787c9d": "2.4.3",
	"ee8d93fcc81e": "2.5.0", "1986afd32c1b": "2.5.0", "290244fb8b83": "2.5.0",
	"6abdffdd4815": "2.6.0", "98ae134e6fff": "2.6.0", "c804e5c76e3e": "2.6.2",
	// 2.7 - 2.10
	"937cbd173ca1": "2.7.0", "788397e78828": "2.7.0", "405de8318b3a": "2.7.0",
	"375a816bbbf4": "2.8.0", "f7bf2a57d0a6": "2.8.0", "bd5dfbe21f88": "2.8.0", "10b52ebd31f7": "2.8.0", "88344c1d9134": "2.8.1",
	"1fd565369930": "2.9.0", "d75389605139": "2.9.0", "ab34f260b71c": "2.9.0", "8e1c784a4fc7": "2.9.0",
	"b4078ac230a1": "2.9.0", "ee1467d4aa35": "2.9.0", "1949afb29106": "2.9.0", "bff083ad727d": "2.9.2", "686269002441": "2.9.2",
	"0fd0c178cbe8": "2.10.0", "677fdbb7fc54": "2.10.0", "c4602ba06b4b": "2.10.0", "d482b7261ff9": "2.10.0",
	"05e19f3176be": "2.10.0", "ec3471c1e067": "2.10.0", "41b3bc7c0272": "2.10.0", "8684e37832e6": "2.10.0",
	"22ed7efa9da2": "2.10.0", "5f2621c13b39": "2.10.3",
}

// airflow3 are revisions of Airflow 3 databases: their schema (no
// execution_date key, UUID task instances, JSON conf) is not read.
var airflow3 = map[string]string{
	"29ce7909c52b": "3.0.0", "fe199e1abd77": "3.0.3", "cc92b33c6709": "3.1",
	"044f740568ec": "3.0 (dev)", "d0f1c55954fa": "3.0 (dev)", "0bfc26bc256e": "3.0 (dev)", "a2c32e6c7729": "3.0 (dev)",
	"1cdc775ca98f": "3.0 (dev)", "522625f6d606": "3.0 (dev)", "16cbcb1c8c36": "3.0 (dev)", "44eabb1904b4": "3.0 (dev)",
	"0d9e73a75ee4": "3.0 (dev)", "c3389cd7793f": "3.0 (dev)", "5a5d66100783": "3.0 (dev)", "fb2d4922cd79": "3.0 (dev)",
	"3a8972ecb8f9": "3.0 (dev)", "05234396c6fc": "3.0 (dev)", "d59cbbef95eb": "3.0 (dev)", "486ac7936b78": "3.0 (dev)",
	"5f57a45b8433": "3.0 (dev)", "d8cd3297971e": "3.0 (dev)", "d03e4a635aa3": "3.0 (dev)", "2b47dc6bc8df": "3.0 (dev)",
	"9fc3fc5de720": "3.0 (dev)", "eed27faa34e3": "3.0 (dev)", "e229247a6cb1": "3.0 (dev)", "038dc8bc6284": "3.0 (dev)",
	"38770795785f": "3.0 (dev)",
}

// supported is what the refusal message says an importer reads.
const supported = "Airflow 1.10.0 to 2.10.x (2.11 has 2.10's schema)"

// airflowVersion returns the Airflow release of a database from the rows
// of its alembic_version table: the latest release among them (1.10.3 to
// 1.10.6 left two or three rows, one per unmerged branch). It refuses an
// Airflow 3 database, an unknown revision and a database without one.
func airflowVersion(revs []string) (string, error) {
	if len(revs) == 0 {
		return "", windsock.Errorf(windsock.EINVALID, "the source has no alembic_version revision: not an Airflow metadata database, or one whose schema was never created (supported: %s)", supported)
	}
	best := ""
	for _, r := range revs {
		r = strings.TrimSpace(r)
		if v, ok := airflow3[r]; ok {
			return "", windsock.Errorf(windsock.EINVALID, "the source is an Airflow %s database (alembic revision %s); supported: %s", v, r, supported)
		}
		v, ok := revisions[r]
		if !ok {
			return "", windsock.Errorf(windsock.EINVALID, "the source's alembic revision %s is not one Windsock knows (found %s); supported: %s", r, strings.Join(revs, ", "), supported)
		}
		if best == "" || compareVersions(v, best) > 0 {
			best = v
		}
	}
	return best, nil
}

// compareVersions orders dotted release numbers numerically.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			fmt.Sscan(as[i], &x)
		}
		if i < len(bs) {
			fmt.Sscan(bs[i], &y)
		}
		if x != y {
			return x - y
		}
	}
	return 0
}
