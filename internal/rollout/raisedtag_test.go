package rollout

import "testing"

func TestTheRaisedTagCreditsNoMoreThanTheGroupIsAboveWhereItStarted(t *testing.T) {
	tests := []struct {
		name     string
		tag      string
		desired  int
		want     int
		wantFrom int
		tagged   bool
	}{
		{name: "a group still raised is credited the whole raise", tag: "raised=3 from=6 cluster=prod", desired: 9, want: 3, wantFrom: 6, tagged: true},
		{name: "a group lowered by hand since is credited only what is left", tag: "raised=3 from=6 cluster=prod", desired: 7, want: 1, wantFrom: 6, tagged: true},
		{name: "a group lowered below where it started is credited nothing", tag: "raised=3 from=6 cluster=prod", desired: 5, want: 0, wantFrom: 6, tagged: true},
		{name: "a group scaled out since is credited no more than the raise", tag: "raised=2 from=6 cluster=prod", desired: 12, want: 2, wantFrom: 6, tagged: true},
		{name: "another cluster's tag is not this rollout's", tag: "raised=3 from=6 cluster=staging", desired: 9, tagged: true},
		{name: "a value trunkctl did not write is ignored", tag: "3", desired: 9, tagged: true},
		{name: "a value without its start is ignored", tag: "raised=3 cluster=prod", desired: 9, tagged: true},
		{name: "no tag is no raise", desired: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := groupState{Group: Group{Name: "web", Desired: tt.desired}, tags: map[string]string{}}
			if tt.tagged {
				g.tags[RaisedTagKey] = tt.tag
			}
			got, from := g.raisedBy("prod")
			if got != tt.want || (got > 0 && from != tt.wantFrom) {
				t.Fatalf("raisedBy = %d from %d, want %d from %d", got, from, tt.want, tt.wantFrom)
			}
		})
	}
	if v := (raisedTag{Raised: 2, From: 4, Cluster: "prod"}).String(); v != "raised=2 from=4 cluster=prod" {
		t.Fatalf("tag value %q", v)
	}
}
