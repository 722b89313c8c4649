#!/bin/sh
echo "app with $(cat /app/deps.count) deps"
