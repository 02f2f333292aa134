#!/bin/bash
echo "cleaning up for {{ ds }}"
