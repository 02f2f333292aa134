// Package e2e holds the UI's end-to-end tests: a real Windsock server
// (store, DAG processor, scheduler and executor running real bash tasks,
// the API and the UI) driven through Debian's chromium with chromedp.
//
// The browser is $WINDSOCK_TEST_CHROMIUM or /usr/bin/chromium. Without one
// the tests skip, except under CI=true where they fail. Screenshots of the
// main pages go to $WINDSOCK_TEST_ARTIFACTS, or to windsock-screenshots in
// the system's temporary directory.
package e2e
