package bridge

// WrapDirectory puts wrap(dir) between the bridge's use cases and its pool,
// for tests (package bridge_test) that must act at an exact moment of a
// request, e.g. write to the entry between the bridge's read and its write,
// which a race between two HTTP requests hits only by chance.
func (a *App) WrapDirectory(wrap func(Directory) Directory) {
	c := a.cur.Load()
	d := wrap(c.users.dir)
	c.users.dir = d
	if c.groups != nil {
		c.groups.dir = d
	}
}
