package datapipeline_test

import (
	"fmt"

	"github.com/windsock/windsock/internal/datapipeline"
)

// A cron pipeline's instance starts when its run is due, at the end of the
// run's data interval; a timeseries instance is the data interval itself.
func ExampleTranslate() {
	daily := datapipeline.Period{N: 1, Unit: "day"}
	for _, typ := range []string{"cron", "timeseries"} {
		s, err := datapipeline.Translate("s3://#{myBucket}/#{format(minusDays(@scheduledStartTime, 1), 'YYYY-MM-dd')}/${HOME}", typ, daily, map[string]string{"myBucket": "logs"})
		if err != nil {
			panic(err)
		}
		fmt.Println(s)
	}
	// Output:
	// s3://logs/{{ data_interval_end.subtract(days=1).strftime('%Y-%m-%d') }}/${HOME}
	// s3://logs/{{ data_interval_start.subtract(days=1).strftime('%Y-%m-%d') }}/${HOME}
}
