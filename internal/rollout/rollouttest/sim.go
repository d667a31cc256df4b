// Package rollouttest is a simulated ECS cluster with its Auto Scaling
// groups on a virtual clock, for testing and benchmarking rollouts: EC2
// instances register some time after launch, with a trunk only when their
// role is opted in at registration; draining moves service tasks to
// instances with free awsvpc slots within each service's
// minimumHealthyPercent and maximumPercent; standalone tasks stay. Every call
// costs virtual latency and is counted, and an invariant checker runs after
// every call and every simulated event.
//
// The fakes embed the SDK-shaped interfaces, so a call the simulator does not
// implement panics loudly.
package rollouttest

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/catalog"
)

// Config sets the simulated delays.
type Config struct {
	Cluster   string
	Region    string
	AccountID string
	// Start is the virtual time at the start.
	Start time.Time
	// Latency is the virtual time every call takes.
	Latency time.Duration
	// LaunchDelay: launch to InService; RegisterDelay: InService to the
	// container instance ACTIVE; TaskStartDelay: a task placed to RUNNING;
	// TerminateDelay: Terminating to gone.
	LaunchDelay    time.Duration
	RegisterDelay  time.Duration
	TaskStartDelay time.Duration
	TerminateDelay time.Duration
	// RefreshTick is how often an instance refresh checks its progress.
	RefreshTick time.Duration
}

// Defaults fills unset fields.
func (c Config) withDefaults() Config {
	if c.Cluster == "" {
		c.Cluster = "prod"
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	}
	if c.LaunchDelay == 0 {
		c.LaunchDelay = 90 * time.Second
	}
	if c.RegisterDelay == 0 {
		c.RegisterDelay = 30 * time.Second
	}
	if c.TaskStartDelay == 0 {
		c.TaskStartDelay = 60 * time.Second
	}
	if c.TerminateDelay == 0 {
		c.TerminateDelay = 30 * time.Second
	}
	if c.RefreshTick == 0 {
		c.RefreshTick = 5 * time.Second
	}
	return c
}

// Lifecycle states of simulated EC2 instances (Auto Scaling's names).
const (
	Pending     = "Pending"
	InService   = "InService"
	Terminating = "Terminating"
	Terminated  = "Terminated"
)

// Instance is a simulated EC2 instance.
type Instance struct {
	ID, Group, Type, Role string
	State                 string
	Protected             bool
	// CI is its container instance ARN once registered.
	CI string
}

// ContainerInstance is a simulated container instance.
type ContainerInstance struct {
	Arn, EC2, Type, Status, Trunk string
	RegisteredAt                  time.Time
}

// Task is a simulated task; Service is empty for a standalone task.
type Task struct {
	Arn, CI, Service string
	LastStatus       string
	Desired          string
}

// Service is a simulated ECS service.
type Service struct {
	Name                        string
	Desired, MinHealthy, MaxPct int
	events                      []serviceEvent
	lastUnplaceable             time.Time
	minRunning                  int
	belowMin                    bool
}

type serviceEvent struct {
	at  time.Time
	id  string
	msg string
}

// Group is a simulated Auto Scaling group.
type Group struct {
	Name              string
	Min, Max, Desired int
	// Role is the instance role of the group's launch template.
	Role, Type string
	// ProtectNew: new instances are protected from scale-in (a capacity
	// provider's managed termination protection).
	ProtectNew bool
	Instances  []string
	// Tags are the group's tags by key (none propagate to instances here).
	Tags map[string]string
}

type timer struct {
	at  time.Time
	seq int
	fn  func()
}

// Sim is the simulated world. Build it with New and the Add methods, then
// hand its clients and itself (the clock) to the rollout.
type Sim struct {
	mu  sync.Mutex
	cfg Config
	cat *catalog.Catalog
	now time.Time

	queue []timer
	seq   int
	ids   int

	groups    map[string]*Group
	instances map[string]*Instance
	cis       map[string]*ContainerInstance
	ciOrder   []string
	tasks     map[string]*Task
	taskOrder []string
	services  map[string]*Service
	refreshes map[string]*refresh

	calls map[string]int
	acct  *accountsettingtest.Account

	// Invariants (set by Watch).
	maxUnavailable int
	planned        map[string]bool
	initial        map[string]bool
	violations     []string

	// OnCall, when set, hears every call (operation, count so far) before
	// it is answered, outside the simulator's lock.
	OnCall func(op string, n int)
}

// New returns an empty simulated cluster.
func New(cfg Config) *Sim {
	cfg = cfg.withDefaults()
	acct := accountsettingtest.New()
	cfg.AccountID = acct.ID
	return &Sim{cfg: cfg, cat: catalog.Default(), now: cfg.Start, groups: map[string]*Group{},
		instances: map[string]*Instance{}, cis: map[string]*ContainerInstance{}, tasks: map[string]*Task{},
		services: map[string]*Service{}, refreshes: map[string]*refresh{}, calls: map[string]int{}, acct: acct}
}

// Account is the simulated account's settings and STS: what decides whether
// an instance that registers gets a trunk.
func (s *Sim) Account() *accountsettingtest.Account { return s.acct }

// Cluster is the simulated cluster's name.
func (s *Sim) Cluster() string { return s.cfg.Cluster }

// RoleArn is the ARN of an instance role name in the simulated account.
func (s *Sim) RoleArn(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", s.cfg.AccountID, name)
}

// ---- clock ----

// Now is the virtual time.
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Sleep advances virtual time by d, running what happens meanwhile.
func (s *Sim) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.advance(s.now.Add(d))
	s.mu.Unlock()
	return ctx.Err()
}

// Advance moves virtual time on by d (for tests that let the world run).
func (s *Sim) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.now.Add(d))
}

func (s *Sim) at(t time.Time, fn func()) {
	s.seq++
	s.queue = append(s.queue, timer{at: t, seq: s.seq, fn: fn})
}

// advance runs timers due up to t in order, checking invariants after each.
func (s *Sim) advance(t time.Time) {
	for {
		sort.Slice(s.queue, func(i, j int) bool {
			if !s.queue[i].at.Equal(s.queue[j].at) {
				return s.queue[i].at.Before(s.queue[j].at)
			}
			return s.queue[i].seq < s.queue[j].seq
		})
		if len(s.queue) == 0 || s.queue[0].at.After(t) {
			break
		}
		next := s.queue[0]
		s.queue = s.queue[1:]
		if next.at.After(s.now) {
			s.now = next.at
		}
		next.fn()
		s.reconcile()
		s.check()
	}
	if t.After(s.now) {
		s.now = t
	}
}

// enter counts a call, hears OnCall, and spends its latency; unless it
// returns an error, the caller holds the lock from then on and must call leave.
func (s *Sim) enter(ctx context.Context, op string) error {
	s.mu.Lock()
	s.calls[op]++
	n := s.calls[op]
	hook := s.OnCall
	s.mu.Unlock()
	if hook != nil {
		hook(op, n)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.advance(s.now.Add(s.cfg.Latency))
	return nil
}

func (s *Sim) leave() {
	s.reconcile()
	s.check()
	s.mu.Unlock()
}

// ---- building ----

func (s *Sim) newID(prefix string) string {
	s.ids++
	return fmt.Sprintf("%s%017x", prefix, s.ids)
}

// GroupSpec describes a group to add.
type GroupSpec struct {
	Name    string
	Role    string
	Type    string
	Count   int
	Max     int
	Min     int
	Protect bool
	Trunked bool
	// TrunkedFirst: the first TrunkedFirst instances have a trunk (a group
	// partly replaced already).
	TrunkedFirst int
}

// AddGroup adds an Auto Scaling group of Count InService instances,
// registered to the cluster (with a trunk when Trunked). Max defaults to
// twice Count.
func (s *Sim) AddGroup(g GroupSpec) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.Type == "" {
		g.Type = "c5.large"
	}
	if g.Max == 0 {
		g.Max = 2 * g.Count
	}
	s.groups[g.Name] = &Group{Name: g.Name, Min: g.Min, Max: g.Max, Desired: g.Count, Role: g.Role, Type: g.Type, ProtectNew: g.Protect}
	var ids []string
	for i := range g.Count {
		id := s.newID("i-")
		s.instances[id] = &Instance{ID: id, Group: g.Name, Type: g.Type, Role: g.Role, State: InService, Protected: g.Protect}
		s.groups[g.Name].Instances = append(s.groups[g.Name].Instances, id)
		s.register(id, g.Trunked || i < g.TrunkedFirst)
		ids = append(ids, id)
	}
	return ids
}

// AddLoose adds a registered instance no Auto Scaling group owns.
func (s *Sim) AddLoose(typ, role string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.newID("i-")
	s.instances[id] = &Instance{ID: id, Type: typ, Role: role, State: InService}
	s.register(id, false)
	return id
}

// EnableRole opts a role in (as the account root would with principalArn):
// instances of it that register from now on get a trunk.
func (s *Sim) EnableRole(name string) {
	s.acct.SetExplicit(s.acct.RoleARN(name), accountsetting.AWSVPCTrunking, accountsetting.Enabled)
}

// enabled says whether a role's effective awsvpcTrunking is enabled now.
func (s *Sim) enabled(role string) bool {
	if v := s.acct.Explicit(s.acct.RoleARN(role), accountsetting.AWSVPCTrunking); v != "" {
		return v == accountsetting.Enabled
	}
	return false
}

// AddService adds a service and places its desired tasks.
func (s *Sim) AddService(name string, desired, minHealthy, maxPct int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := &Service{Name: name, Desired: desired, MinHealthy: minHealthy, MaxPct: maxPct}
	s.services[name] = svc
	for range desired {
		ci := s.freeInstance()
		if ci == "" {
			panic("rollouttest: no free slot for service " + name)
		}
		s.addTask(ci, name, "RUNNING")
	}
	svc.minRunning = desired
}

// AddStandalone runs a standalone task on an EC2 instance; it returns its ARN.
func (s *Sim) AddStandalone(ec2ID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addTask(s.instances[ec2ID].CI, "", "RUNNING")
}

// EndTask stops a task, as if it finished.
func (s *Sim) EndTask(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tasks[arn].LastStatus, s.tasks[arn].Desired = "STOPPED", "STOPPED"
	s.reconcile()
}

func (s *Sim) addTask(ci, service, status string) string {
	arn := fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", s.cfg.Region, s.cfg.AccountID, s.cfg.Cluster, s.newID("")[1:])
	s.tasks[arn] = &Task{Arn: arn, CI: ci, Service: service, LastStatus: status, Desired: "RUNNING"}
	s.taskOrder = append(s.taskOrder, arn)
	return arn
}

func (s *Sim) register(ec2ID string, trunked bool) {
	inst := s.instances[ec2ID]
	arn := fmt.Sprintf("arn:aws:ecs:%s:%s:container-instance/%s/%s", s.cfg.Region, s.cfg.AccountID, s.cfg.Cluster, s.newID("")[1:])
	ci := &ContainerInstance{Arn: arn, EC2: ec2ID, Type: inst.Type, Status: "ACTIVE", RegisteredAt: s.now}
	if trunked && s.cat.Lookup(inst.Type).Support == catalog.Supported {
		ci.Trunk = s.newID("eni-")
	}
	inst.CI = arn
	s.cis[arn] = ci
	s.ciOrder = append(s.ciOrder, arn)
}

// ---- world rules ----

// slotsOf is the awsvpc tasks a container instance takes.
func (s *Sim) slotsOf(ci *ContainerInstance) int {
	it := s.cat.Lookup(ci.Type)
	if ci.Trunk != "" {
		return it.TasksWithTrunking
	}
	return it.TasksWithoutTrunking
}

func (s *Sim) load() map[string]int {
	out := map[string]int{}
	for _, t := range s.tasks {
		if t.LastStatus != "STOPPED" {
			out[t.CI]++
		}
	}
	return out
}

// freeInstance is the ACTIVE container instance with the most free slots.
func (s *Sim) freeInstance() string {
	load := s.load()
	best, bestFree := "", 0
	for _, arn := range s.ciOrder {
		ci := s.cis[arn]
		if ci.Status != "ACTIVE" || s.instances[ci.EC2].State != InService {
			continue
		}
		if free := s.slotsOf(ci) - load[arn]; free > bestFree {
			best, bestFree = arn, free
		}
	}
	return best
}

// reconcile is the service scheduler: replace tasks on DRAINING instances
// within minimumHealthyPercent and maximumPercent.
func (s *Sim) reconcile() {
	for _, name := range slices.Sorted(maps.Keys(s.services)) {
		svc := s.services[name]
		active, running, onDraining := s.serviceTasks(name)
		s.placeTasks(name, svc, active, len(onDraining))
		minCount := int(math.Ceil(float64(svc.Desired*svc.MinHealthy) / 100))
		for _, t := range onDraining {
			if running-1 < minCount {
				break
			}
			t.LastStatus, t.Desired = "STOPPED", "STOPPED"
			running--
		}
		if running < svc.minRunning {
			svc.minRunning = running
		}
	}
}

// serviceTasks counts the service's tasks not stopped on instances not
// draining (active) and those RUNNING anywhere (running), and lists its
// RUNNING tasks on DRAINING instances.
func (s *Sim) serviceTasks(name string) (active, running int, onDraining []*Task) {
	for _, arn := range s.taskOrder {
		t := s.tasks[arn]
		if t.Service != name || t.LastStatus == "STOPPED" {
			continue
		}
		if t.LastStatus == "RUNNING" {
			running++
		}
		if s.cis[t.CI].Status == "DRAINING" {
			if t.LastStatus == "RUNNING" {
				onDraining = append(onDraining, t)
			}
			continue
		}
		active++
	}
	return active, running, onDraining
}

// placeTasks starts the service's missing tasks on free instances, within
// its maximum percent, and writes a placement-failure event (at most one a
// minute) when no instance is free.
func (s *Sim) placeTasks(name string, svc *Service, active, draining int) {
	maxCount := svc.Desired * svc.MaxPct / 100
	for active < svc.Desired && active+draining < maxCount {
		ci := s.freeInstance()
		if ci == "" {
			if s.now.Sub(svc.lastUnplaceable) >= time.Minute {
				svc.lastUnplaceable = s.now
				svc.events = append(svc.events, serviceEvent{at: s.now, id: s.newID("ev-"), msg: fmt.Sprintf(
					"(service %s) was unable to place a task because no container instance met all of its requirements. The closest matching container-instance has insufficient free ENIs.", name)})
			}
			return
		}
		arn := s.addTask(ci, name, "PENDING")
		s.at(s.now.Add(s.cfg.TaskStartDelay), func() {
			if t := s.tasks[arn]; t.LastStatus == "PENDING" {
				t.LastStatus = "RUNNING"
			}
		})
		active++
	}
}

// ---- invariants ----

// Watch starts checking the rollout invariants: at most maxUnavailable
// instances draining or missing at once, and no action on an instance
// outside planned (the EC2 ids the rollout may replace).
func (s *Sim) Watch(maxUnavailable int, planned []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxUnavailable = maxUnavailable
	s.planned = map[string]bool{}
	for _, id := range planned {
		s.planned[id] = true
	}
	s.initial = map[string]bool{}
	for id := range s.instances {
		s.initial[id] = true
	}
}

func (s *Sim) violate(format string, args ...any) {
	s.violations = append(s.violations, s.now.Format(time.TimeOnly)+" "+fmt.Sprintf(format, args...))
}

// check runs after every call and event.
func (s *Sim) check() {
	for _, name := range slices.Sorted(maps.Keys(s.services)) {
		svc := s.services[name]
		minCount := int(math.Ceil(float64(svc.Desired*svc.MinHealthy) / 100))
		running := 0
		for _, t := range s.tasks {
			if t.Service == name && t.LastStatus == "RUNNING" {
				running++
			}
		}
		if running < minCount && !svc.belowMin {
			svc.belowMin = true
			s.violate("service %s: %d RUNNING, below its minimumHealthyPercent %d%% of %d", name, running, svc.MinHealthy, svc.Desired)
		}
	}
	if s.initial == nil {
		return
	}
	draining, drainingOnly, gone, fresh := 0, 0, 0, 0
	for id, inst := range s.instances {
		ci := s.cis[inst.CI]
		leaving := inst.State == Terminating || inst.State == Terminated
		if ci != nil && ci.Status == "DRAINING" {
			draining++
			if !leaving {
				drainingOnly++
			}
		}
		if s.initial[id] && leaving {
			gone++
		}
		if !s.initial[id] && !leaving && ci != nil && ci.Status == "ACTIVE" {
			fresh++
		}
	}
	if s.maxUnavailable > 0 {
		if draining > s.maxUnavailable {
			s.violate("%d instances DRAINING, more than %d", draining, s.maxUnavailable)
		}
		if u := drainingOnly + max(0, gone-fresh); u > s.maxUnavailable {
			s.violate("%d instances draining or missing, more than %d", u, s.maxUnavailable)
		}
	}
}

// acting records a violation when an instance outside the plan is acted on.
func (s *Sim) acting(op, ec2ID string) {
	if s.planned != nil && !s.planned[ec2ID] {
		s.violate("%s on %s, which is not in the plan", op, ec2ID)
	}
}

// Violations are the invariants broken so far.
func (s *Sim) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// ---- reading the world ----

// Calls returns the number of calls per operation ("ecs:ListTasks").
func (s *Sim) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// TotalCalls is the number of calls made.
func (s *Sim) TotalCalls() int {
	n := 0
	for _, v := range s.Calls() {
		n += v
	}
	return n
}

// writeOps are the calls that change the world.
var writeOps = []string{"ecs:UpdateContainerInstancesState", "ecs:DeregisterContainerInstance", "ecs:StopTask", "autoscaling:SetDesiredCapacity",
	"autoscaling:SetInstanceProtection", "autoscaling:TerminateInstanceInAutoScalingGroup",
	"autoscaling:StartInstanceRefresh", "autoscaling:CancelInstanceRefresh", "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags",
	"ecs:PutAccountSetting"}

// Writes is the number of calls that change the world.
func (s *Sim) Writes() int {
	c := s.Calls()
	n := 0
	for _, op := range writeOps {
		n += c[op]
	}
	return n
}

// InstanceState is an EC2 instance's lifecycle state ("" when unknown).
func (s *Sim) InstanceState(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.instances[id]; i != nil {
		return i.State
	}
	return ""
}

// Status is the status of an EC2 instance's container instance.
func (s *Sim) Status(ec2ID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.instances[ec2ID]; i != nil && s.cis[i.CI] != nil {
		return s.cis[i.CI].Status
	}
	return ""
}

// Desired is a group's desired capacity.
func (s *Sim) Desired(group string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groups[group].Desired
}

// Counts says how many container instances are live, trunked and DRAINING.
func (s *Sim) Counts() (active, trunked, draining int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ci := range s.cis {
		switch ci.Status {
		case "ACTIVE":
			active++
		case "DRAINING":
			draining++
		default:
			continue
		}
		if ci.Trunk != "" {
			trunked++
		}
	}
	return active, trunked, draining
}

// MinShare is, per service, the lowest share of its desired tasks RUNNING so far.
func (s *Sim) MinShare() map[string]float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]float64{}
	for n, svc := range s.services {
		out[n] = float64(svc.minRunning) / float64(svc.Desired)
	}
	return out
}

// MinHealthy is a service's minimumHealthyPercent.
func (s *Sim) MinHealthy(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.services[name].MinHealthy
}

// Running counts a service's RUNNING tasks.
func (s *Sim) Running(service string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.tasks {
		if t.Service == service && t.LastStatus == "RUNNING" {
			n++
		}
	}
	return n
}

// TaskStatus is a task's last status.
func (s *Sim) TaskStatus(arn string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tasks[arn].LastStatus
}

// Tags returns a copy of a group's tags.
func (s *Sim) Tags(group string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.groups[group].Tags {
		out[k] = v
	}
	return out
}

// Protected says whether an instance is protected from scale-in.
func (s *Sim) Protected(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.instances[id].Protected
}

func lastSegment(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// EndTaskAfter stops a task d from now, as if it finished.
func (s *Sim) EndTaskAfter(arn string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at(s.now.Add(d), func() {
		if t := s.tasks[arn]; t.LastStatus != "STOPPED" {
			t.LastStatus, t.Desired = "STOPPED", "STOPPED"
		}
	})
}

// SetLaunchRole changes the instance role a group launches with (its launch
// template's instance profile), for instances launched from now on.
func (s *Sim) SetLaunchRole(group, role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[group].Role = role
}
