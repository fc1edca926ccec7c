// Test setup: nothing global yet beyond jsdom.
export {}
